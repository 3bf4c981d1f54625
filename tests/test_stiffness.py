"""The stiffness-adaptive step η_k = c/|λ|max(∂F(p_k)): the step taken, its refresh at block starts, NaN before a
refresh, sweeps and checkpoints, and EG's convergence where a fixed step 4x too large diverges."""
import doctest
import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from minimax import Players, diagnostics, games, train, updates
from minimax.updates import stiffness as stiffness_module

KEY = jax.random.PRNGKey(7)
JS = games.dirac_gan("js")  # its Jacobian depends on the point: the stiffness changes along a run


def dense_stiffness(game, params):
    return float(np.max(np.abs(diagnostics.field_eigenvalues(game.field_fn(), params))))


def stiff_eg(hp):
    return updates.extragradient(updates.stiffness_sgd(hp["c"], krylov_dim=4))


def stiffness_of(opt_state):
    """The stiffness of the (single) StiffnessState in ``opt_state``."""
    found = [x for x in jax.tree_util.tree_leaves(opt_state, is_leaf=lambda x: isinstance(x, updates.StiffnessState))
             if isinstance(x, updates.StiffnessState)]
    assert len(found) >= 1
    return found[0].stiffness


def test_the_step_taken_is_c_over_the_dense_stiffness():
    # quadratic game: ∂F = [[−a, b], [−b, c]] = [[−2, 2], [−2, 1]] (non-normal), λ = −½ ± i√7/2, |λ| = √2
    g, c = games.quadratic(), 0.3
    p0 = Players(jnp.float32(0.4), jnp.float32(-0.7))
    lam = dense_stiffness(g, p0)
    np.testing.assert_allclose(lam, np.sqrt(2.0), rtol=1e-6)
    res = train.run(g, updates.simultaneous(updates.stiffness_sgd(c, krylov_dim=2)), p0, KEY, steps=6,
                    record_every=3)
    np.testing.assert_allclose(res.stats["update_norm"] / res.stats["field_norm"], c / lam, rtol=1e-4)
    np.testing.assert_allclose(res.state.opt_state[0].step_size, c / lam, rtol=1e-4)

    # EG on a matrix game (n = 7 parameters, krylov_dim = 7 is exact): the iterates are EG's with η = c/σ_max(A)
    A = jax.random.normal(jax.random.PRNGKey(0), (3, 4))
    g = games.bilinear(A)
    p0 = g.sample_init(jax.random.PRNGKey(1))
    eta = c / dense_stiffness(g, p0)
    np.testing.assert_allclose(eta * np.linalg.norm(A, 2), c, rtol=1e-5)
    res = train.run(g, updates.extragradient(updates.stiffness_sgd(c, krylov_dim=7)), p0, KEY, steps=4)
    F, p = g.field_fn(), p0
    for _ in range(4):
        half = jax.tree_util.tree_map(lambda x, f: x - eta * f, p, F(p))
        p = jax.tree_util.tree_map(lambda x, f: x - eta * f, p, F(half))
    chex.assert_trees_all_close(res.params, p, rtol=1e-4, atol=1e-6)


def test_the_estimate_is_refreshed_at_every_block_start():
    p0, blocks, k = Players(jnp.float32(1.5), jnp.float32(-1.0)), 4, 5
    rule = stiff_eg({"c": 0.5})
    metrics = diagnostics.stiffness_metric(krylov_dim=4, base=train.default_metrics)
    full = jax.jit(lambda p: train.run(JS, rule, p, KEY, steps=blocks * k, record_every=k, metrics=metrics))(p0)
    # programs with the same outputs (XLA's fusion, hence float rounding, depends on which outputs are live)
    one_block = jax.jit(lambda s: train.run(JS, rule, None, KEY, steps=k, state=s, metrics=metrics))
    state, seen = train.init_state(JS, rule, p0), []
    for b in range(blocks):  # the same run one block at a time: the state holds the block start's estimate
        start, state = state.params, one_block(state).state
        seen.append(float(stiffness_of(state.opt_state)))
        np.testing.assert_allclose(seen[-1], dense_stiffness(JS, start), rtol=1e-5)
    chex.assert_trees_all_equal(state, full.state)  # one block at a time = one run, bit for bit
    np.testing.assert_allclose(seen, full.trajectory["stiffness"][:-1], rtol=1e-5)
    assert np.ptp(seen) > 0.05 * np.max(seen)  # the stiffness did change: a stale estimate would fail above


def test_without_a_refresh_the_update_is_nan_and_the_run_refreshes_it():
    p0 = Players(jnp.float32(1.5), jnp.float32(-1.0))
    t = updates.scale_by_stiffness(0.5)
    state = t.init(p0)
    assert np.isnan(state.stiffness) and np.isnan(state.step_size)
    u, _ = t.update(JS.field(p0), state)
    assert all(np.isnan(x) for x in jax.tree_util.tree_leaves(u))
    rule = updates.extragradient(updates.stiffness_sgd(0.5))
    stepped, _ = train.make_step(JS, rule)(train.init_state(JS, rule, p0), KEY)  # a hand loop that forgot it
    assert bool(stepped.diverged) and int(stepped.diverged_step) == 1
    res = train.run(JS, rule, p0, KEY, steps=10)
    assert not bool(res.diverged) and np.isfinite(res.state.opt_state.inner_state[0].stiffness)
    refreshed = updates.refresh_stiffness(state, p0, JS.field_fn())
    u, _ = t.update(JS.field(p0), refreshed)
    chex.assert_trees_all_close(u, jax.tree_util.tree_map(lambda f: 0.5 / dense_stiffness(JS, p0) * f,
                                                          JS.field(p0)), rtol=1e-5)


def test_one_estimate_is_shared_and_rules_without_the_state_trace_nothing():
    p0 = Players(jnp.float32(1.5), jnp.float32(-1.0))
    calls = []

    def counted(p):
        calls.append(1)
        return JS.field(p)

    rule = updates.alternating(updates.stiffness_sgd(0.5, krylov_dim=3))
    state = updates.refresh_stiffness(rule.init(p0), p0, counted)
    assert len(calls) == 1  # one linearization of F for both inner states
    np.testing.assert_array_equal(state.max_state[0].stiffness, state.min_state[0].stiffness)
    plain = updates.extragradient(optax.sgd(0.1)).init(p0)
    assert updates.refresh_stiffness(plain, p0, counted) is plain and len(calls) == 1


def near_init(key):
    """Starting points within 0.5 of p* = 0 (from farther, c = 0.25 takes steps η ≈ 2 in a non-monotone region,
    where one-ulp differences between compiled programs grow along the run)."""
    return jax.tree_util.tree_map(lambda x: 0.5 * x, JS.sample_init(key))


def _sweep(**kwargs):
    hp = train.hyperparameter_grid(c=[0.25, 0.5])
    return hp, train.sweep(JS, stiff_eg, hp, jax.random.split(KEY, 3), steps=40, record_every=10, init=near_init,
                           **kwargs)


@functools.lru_cache(maxsize=None)
def uninterrupted_sweep():
    return _sweep()


def test_a_sweep_over_c_equals_single_runs_and_other_rules_are_untouched():
    hp, out = uninterrupted_sweep()
    single = jax.jit(lambda c, key: train.run(JS, stiff_eg({"c": c}), near_init(jax.random.split(key)[0]),
                                              jax.random.split(key)[1], steps=40, record_every=10))
    for h in range(2):
        for s, key in enumerate(jax.random.split(KEY, 3)):
            one = single(hp["c"][h], key)
            # O(1) states compiled into different programs: agreement to float32 rounding, relative or absolute
            chex.assert_trees_all_close(jax.tree_util.tree_map(lambda x: x[h, s], out.state), one.state, rtol=1e-5,
                                        atol=1e-6)
    assert np.ptp(out.state.opt_state.inner_state[0].stiffness) > 0.01  # per-run estimates, not one shared value
    assert not out.diverged.any()
    eg = updates.extragradient(optax.sgd(0.2))
    p0 = JS.sample_init(KEY)
    finals = [jax.jit(lambda p: train.run(JS, eg, p, KEY, steps=40, record_every=r).state)(p0) for r in (40, 10)]
    chex.assert_trees_all_equal(*finals)


def test_eg_converges_at_c_half_where_a_fixed_step_4x_larger_diverges():
    g = games.dirac_gan("zero_infinity")  # ∂F = [[0, 1], [−1, 0]]: λ = ±i
    p0 = g.sample_init(KEY)
    eta = 0.5 / dense_stiffness(g, p0)
    adaptive = train.run(g, updates.extragradient(updates.stiffness_sgd(0.5)), p0, KEY, steps=200, record_every=50)
    fixed = train.run(g, updates.extragradient(optax.sgd(4 * eta)), p0, KEY, steps=200, record_every=50)
    np.testing.assert_allclose(adaptive.state.opt_state.inner_state[0].step_size, eta, rtol=1e-5)
    assert adaptive.trajectory["distance"][-1] < 1e-6 * adaptive.trajectory["distance"][0]
    assert not bool(adaptive.diverged)
    # |1 − z + z²| at z = 4ηi = 2i is √13: the fixed step blows up (or is flagged diverged)
    assert bool(fixed.diverged) or fixed.trajectory["distance"][-1] > 1e6 * fixed.trajectory["distance"][0]


@pytest.mark.parametrize("kwargs, error, match", [
    ({"c": 0.0}, ValueError, "`c`"), ({"c": -1.0}, ValueError, "`c`"), ({"c": lambda n: 0.5}, TypeError, "`c`"),
    ({"krylov_dim": 1}, ValueError, "`krylov_dim`"), ({"krylov_dim": 2.5}, TypeError, "`krylov_dim`"),
    ({"krylov_dim": True}, TypeError, "`krylov_dim`"),
])
def test_bad_input_names_the_argument(kwargs, error, match):
    with pytest.raises(error, match=match):
        updates.scale_by_stiffness(**kwargs)
    with pytest.raises(error, match=match):
        updates.stiffness_sgd(**kwargs)


def test_an_interrupted_checkpointed_sweep_resumes_bit_for_bit(tmp_path):
    _, full = uninterrupted_sweep()
    polls = iter(range(100))
    with pytest.raises(train.Interrupted, match="step 20 of 40"):
        _sweep(checkpoint=train.Checkpointing(str(tmp_path), every=1), stop=lambda: next(polls) >= 1)
    _, resumed = _sweep(checkpoint=train.Checkpointing(str(tmp_path), every=1, resume=True))
    chex.assert_trees_all_equal(resumed.state, full.state)
    chex.assert_trees_all_equal(resumed.trajectory, full.trajectory)


def test_the_docstring_example_runs():
    result = doctest.testmod(stiffness_module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.attempted > 0 and result.failed == 0


def test_max_step_caps_the_adaptive_step_and_is_validated():
    """η = min(c/|λ|max, η_max): on the ZI Dirac GAN |λ|max = 1, so c = 0.5 with η_max = 0.1 steps 0.1."""
    import pytest
    game = games.dirac_gan("zero_infinity")
    for cap, expected in ((0.1, 0.1), (None, 0.5), (2.0, 0.5)):
        rule = updates.extragradient(updates.stiffness_sgd(0.5, max_step=cap))
        out = train.run(game, rule, game.sample_init(jax.random.PRNGKey(0)), jax.random.PRNGKey(1), steps=4)
        assert abs(float(out.state.opt_state.inner_state[0].step_size) - expected) < 1e-5
    with pytest.raises(ValueError, match="max_step"):
        updates.stiffness_sgd(0.5, max_step=0.0)


def test_refresh_every_r_steps_equals_records_every_r_steps_and_the_step_size_statistic_is_the_eta_applied():
    """``refresh_every=1`` in one block of 8 steps re-estimates |λ|max at every step, as 8 blocks of 1 do;
    the default (once per block) is a different schedule, so the reference could not pass by accident."""
    p0, rule = Players(jnp.float32(1.5), jnp.float32(-1.0)), stiff_eg({"c": 0.5})
    run = lambda **kw: jax.jit(lambda p: train.run(JS, rule, p, KEY, steps=8, **kw))(p0)
    inner, stepwise, default = run(record_every=8, refresh_every=1), run(record_every=1), run(record_every=8)
    chex.assert_trees_all_close(inner.state, stepwise.state, rtol=1e-5, atol=1e-7)
    assert float(jnp.abs(inner.state.params.min - default.state.params.min)) > 1e-4
    # the statistic: η of each step, here the block mean; with one refresh per step it is c/|λ|max(∂F(p_k))
    np.testing.assert_allclose(inner.stats["step_size"], np.mean(stepwise.stats["step_size"]), rtol=1e-5)
    np.testing.assert_allclose(stepwise.stats["step_size"][0], 0.5 / dense_stiffness(JS, p0), rtol=1e-4)
    assert "step_size" not in train.run(JS, updates.extragradient(optax.sgd(0.1)), p0, KEY, steps=2).stats
    # a sweep takes the same argument and gives the single run
    out = train.sweep(JS, stiff_eg, train.hyperparameter_grid(c=[0.5]), KEY[None], steps=8, record_every=8,
                      refresh_every=1, init=lambda key: p0, strategy="vmap")
    single = train.run(JS, rule, p0, jax.random.split(KEY)[1], steps=8, record_every=8, refresh_every=1)
    chex.assert_trees_all_close(jax.tree_util.tree_map(lambda x: x[0, 0], out.state), single.state, rtol=1e-5,
                                atol=1e-7)


@pytest.mark.parametrize("refresh_every", [0, 3, 2.0, True])
def test_refresh_every_must_divide_record_every(refresh_every):
    with pytest.raises(ValueError, match="`refresh_every` must be a positive integer dividing record_every=4"):
        train.run(JS, stiff_eg({"c": 0.5}), JS.sample_init(KEY), KEY, steps=8, record_every=4,
                  refresh_every=refresh_every)
