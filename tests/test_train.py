"""Runs that carry their state, sweeps, compiled-program caching, hooks, divergence, determinism and sharding."""
import os
import subprocess
import sys
import textwrap

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from minimax import Game, Players, fields, games, train, updates
from minimax.game import tree_negate

GAME = games.dirac_gan("zero_infinity")
KEYS = jax.random.split(jax.random.PRNGKey(42), 6)


def eg_rule(hp):
    return updates.extragradient(updates.timescaled(optax.sgd(hp["lr"]), hp["tau"]))


def eg_run(hp, key, steps=300, record_every=50):
    k_init, k_run = jax.random.split(key)
    return train.run(GAME, eg_rule(hp), GAME.sample_init(k_init), k_run, steps=steps, record_every=record_every)


def test_run_records_the_initial_point_and_every_k_steps():
    res = eg_run({"lr": 0.2, "tau": 1.0}, KEYS[0])
    d = np.asarray(res.trajectory["distance"])
    assert d.shape == (300 // 50 + 1,) and int(res.state.step) == 300
    p0 = GAME.sample_init(jax.random.split(KEYS[0])[0])
    np.testing.assert_allclose(d[0], np.hypot(p0.min, p0.max), rtol=1e-6)
    rho = np.sqrt(1 - 0.04 + 0.0016)  # EG on the rotation field: each block contracts by ρ^50
    np.testing.assert_allclose(d[1:] / d[:-1], rho**50, rtol=1e-3)


def test_block_statistics_average_the_per_step_field_norm():
    """GDA on the bilinear game multiplies ‖p‖ = ‖F(p)‖ by √(1 + η²) every step, so the block mean of
    ‖F(p_k)‖ over k = 0..9 is ‖p₀‖·Σ r^k / 10; L_θ = θw and L_w = −θw are recorded per step too."""
    g, eta = games.bilinear(), 0.1
    p0 = Players(jnp.float32(0.6), jnp.float32(-0.8))
    res = train.run(g, optax.sgd(eta), p0, KEYS[0], steps=20, record_every=10)
    r = np.sqrt(1 + eta**2)
    expected = [np.mean([r**k for k in range(b * 10, b * 10 + 10)]) for b in range(2)]
    np.testing.assert_allclose(res.stats["field_norm"], expected, rtol=1e-5)
    np.testing.assert_allclose(res.stats["loss_min"], -res.stats["loss_max"], rtol=1e-6)
    np.testing.assert_allclose(res.stats["update_norm"], eta * np.asarray(expected), rtol=1e-5)


def test_a_run_continued_from_its_state_equals_the_longer_run_bit_for_bit():
    rule = updates.extragradient(optax.adam(0.05))
    g = games.translation_gan()  # stochastic: every step draws its minibatch from fold_in(key, step)
    p0 = g.sample_init(KEYS[1])
    full = jax.jit(lambda p: train.run(g, rule, p, KEYS[2], steps=60, record_every=10))(p0)
    first = jax.jit(lambda p: train.run(g, rule, p, KEYS[2], steps=20, record_every=10))(p0)
    second = jax.jit(lambda s: train.run(g, rule, None, KEYS[2], steps=40, record_every=10, state=s))(first.state)
    chex.assert_trees_all_equal(second.state, full.state)
    np.testing.assert_array_equal(second.trajectory["distance"], full.trajectory["distance"][2:])
    np.testing.assert_array_equal(first.trajectory["distance"], full.trajectory["distance"][:3])
    np.testing.assert_array_equal(np.concatenate([first.stats["field_norm"], second.stats["field_norm"]]),
                                  full.stats["field_norm"])
    with pytest.raises(ValueError, match="exactly one of"):
        train.run(g, rule, p0, KEYS[2], steps=10, state=first.state)


def test_bad_step_counts_are_rejected_before_compute():
    with pytest.raises(ValueError, match="steps"):
        eg_run({"lr": 0.2, "tau": 1.0}, KEYS[0], steps=0)
    with pytest.raises(ValueError, match="record_every"):
        eg_run({"lr": 0.2, "tau": 1.0}, KEYS[0], steps=100, record_every=30)


def test_sweep_equals_a_loop_over_seeds_and_hyperparameters():
    hp = train.hyperparameter_grid(lr=[0.1, 0.3], tau=[1.0, 4.0])
    assert np.asarray(hp["tau"]).tolist() == [1.0, 4.0, 1.0, 4.0]
    out = train.sweep(GAME, eg_rule, hp, KEYS, steps=300, record_every=50)
    assert out.trajectory["distance"].shape == (4, 6, 7) and out.state.step.shape == (4, 6)
    for h in range(4):
        for s in range(6):
            one = jax.jit(eg_run)({k: v[h] for k, v in hp.items()}, KEYS[s])
            np.testing.assert_allclose(out.trajectory["distance"][h, s], one.trajectory["distance"], rtol=1e-5,
                                       atol=1e-7)


def test_seeds_only_sweep_with_a_fixed_rule_and_list_hyperparameters():
    rule = updates.extragradient(optax.sgd(0.2))
    out = train.sweep(GAME, rule, None, KEYS, steps=100, record_every=50)
    assert out.trajectory["distance"].shape == (6, 3)
    listed = train.sweep(GAME, lambda hp: updates.extragradient(optax.sgd(hp["lr"])), {"lr": [0.2]}, KEYS, steps=100,
                         record_every=50)
    np.testing.assert_allclose(listed.trajectory["distance"][0], out.trajectory["distance"], rtol=1e-6)


def test_integer_hyperparameters_stay_integers_and_sweep_alternating_steps():
    hp = train.hyperparameter_grid(lr=[0.1], M=[1, 5])
    assert hp["M"].dtype == jnp.int32 and hp["lr"].dtype == jnp.float32
    rule = lambda hp: updates.alternating(optax.sgd(hp["lr"]), max_steps=hp["M"])
    out = train.sweep(GAME, rule, hp, KEYS[:2], steps=20, record_every=10)
    for h, M in enumerate([1, 5]):
        k_init, k_run = jax.random.split(KEYS[0])
        one = train.run(GAME, updates.alternating(optax.sgd(0.1), max_steps=M), GAME.sample_init(k_init), k_run,
                        steps=20, record_every=10)
        np.testing.assert_allclose(out.trajectory["distance"][h, 0], one.trajectory["distance"], rtol=1e-5)
    assert not np.allclose(out.trajectory["distance"][0, 0], out.trajectory["distance"][1, 0])
    assert train.hyperparameter_grid(flag=[True, False])["flag"].dtype == jnp.bool_


def test_same_key_same_result_bit_for_bit_and_lax_map_batching_agrees():
    hp = train.hyperparameter_grid(lr=[0.2], tau=[2.0])
    a = train.sweep(GAME, eg_rule, hp, KEYS, steps=300, record_every=50)
    b = train.sweep(GAME, eg_rule, hp, KEYS, steps=300, record_every=50)
    chex.assert_trees_all_equal(a.state, b.state)
    c = train.sweep(GAME, eg_rule, hp, KEYS, steps=300, record_every=50, strategy="map", batch_size=2)
    np.testing.assert_allclose(c.trajectory["distance"], a.trajectory["distance"], rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="batch_size"):
        train.sweep(GAME, eg_rule, hp, KEYS, steps=300, strategy="map", batch_size=4)


def test_a_sweep_continued_from_its_state_equals_the_longer_sweep():
    hp = train.hyperparameter_grid(lr=[0.1, 0.2], tau=[1.0])
    full = train.sweep(GAME, eg_rule, hp, KEYS[:3], steps=200, record_every=50)
    half = train.sweep(GAME, eg_rule, hp, KEYS[:3], steps=100, record_every=50)
    rest = train.sweep(GAME, eg_rule, hp, KEYS[:3], steps=100, record_every=50, state=half.state)
    chex.assert_trees_all_equal(rest.state, full.state)
    np.testing.assert_array_equal(rest.trajectory["distance"], full.trajectory["distance"][:, :, 2:])


def test_compiled_programs_are_reused_and_never_stale():
    """The notebook workflow: a sweep whose rule reads a global; change the global and rerun."""
    scale = {"lr": 0.2}
    rule = lambda hp: updates.extragradient(optax.sgd(scale["lr"]))
    run = lambda: train.sweep(GAME, rule, None, KEYS[:2], steps=50, record_every=50)
    before = dict(train.compile_stats)
    a = run()
    b = run()
    assert train.compile_stats["misses"] - before["misses"] == 2  # init and block programs, compiled once
    chex.assert_trees_all_equal(a.state, b.state)
    scale["lr"] = 0.05  # a new constant in the program: a new compilation, new results
    c = run()
    assert train.compile_stats["misses"] - before["misses"] == 3  # the init program is unchanged
    assert not np.allclose(c.trajectory["distance"][:, -1], a.trajectory["distance"][:, -1])
    # two datasets of one shape share one compilation (data are arguments, not constants)
    before = dict(train.compile_stats)
    for A in (jnp.eye(2), 3 * jnp.eye(2)):
        train.sweep(games.bilinear(A), optax.sgd(0.1), None, KEYS[:2], steps=10, record_every=10)
    assert train.compile_stats["misses"] - before["misses"] == 2


def test_a_diverged_seed_is_flagged_frozen_and_does_not_touch_the_others():
    """Seed 3 starts at 1e38: GDA (radius √1.04) overflows float32 within ~50 steps. The other seeds are
    bit-identical to the same sweep (same batch) with a healthy seed 3."""
    bad_key = jax.random.split(KEYS[3])[0]  # the init key of seed 3

    def init_with(scale_bad):
        def init(key):
            scale = jnp.where(jnp.all(key == bad_key), scale_bad, 1.0)
            return jax.tree_util.tree_map(lambda x: scale * x, GAME.sample_init(key))
        return init

    run = lambda scale: train.sweep(GAME, lambda hp: optax.sgd(hp["lr"]), {"lr": [0.2]}, KEYS, steps=200,
                                    record_every=20, init=init_with(scale))
    out, healthy = run(1e38), run(1.0)
    assert np.flatnonzero(np.asarray(out.diverged[0])).tolist() == [3]
    assert 0 < int(out.diverged_step[0, 3]) <= 200 and int(out.diverged_step[0, 0]) == -1
    assert all(np.all(np.isfinite(x[0, 3])) for x in jax.tree_util.tree_leaves(out.params))  # frozen, finite
    others = [0, 1, 2, 4, 5]
    np.testing.assert_array_equal(out.trajectory["distance"][0, others], healthy.trajectory["distance"][0, others])
    chex.assert_trees_all_equal(jax.tree_util.tree_map(lambda x: x[0, np.array(others)], out.state),
                                jax.tree_util.tree_map(lambda x: x[0, np.array(others)], healthy.state))


def test_a_non_finite_optimizer_state_is_divergence_too():
    """Adam on a gradient of 1e30: v = g² overflows to inf while m/√v keeps the parameters finite."""
    g = Game(loss=lambda p, key, args, state: 1e30 * (p.min + p.max))
    res = train.run(g, optax.adam(0.1), Players(jnp.float32(0.0), jnp.float32(0.0)), KEYS[0], steps=5)
    assert bool(res.diverged) and int(res.diverged_step) == 1
    assert all(np.all(np.isfinite(x)) for x in jax.tree_util.tree_leaves(res.state.opt_state))


def test_the_constraint_set_is_enforced_at_every_half_step():
    """Wasserstein Dirac GAN, L = −wθ with |w| <= 1, so F = (−w, θ); EG with sgd(η), by hand:
    p̃ = P(p − ηF(p)), p⁺ = P(p − ηF(p̃)) (projected EG), and without P when the run opts out."""
    g, eta = games.dirac_gan("wasserstein"), 2.0
    theta, w = 0.7, 0.5
    field = lambda th, w_: (-w_, th)
    clip = lambda v: float(np.clip(v, -1.0, 1.0))
    p = Players(jnp.float32(theta), jnp.float32(w))
    f = field(theta, w)
    th_half, w_half = theta - eta * f[0], clip(w - eta * f[1])   # w − ηθ = −0.9: inside; θ̃ = 1.7
    f = field(th_half, w_half)
    expected = (theta - eta * f[0], clip(w - eta * f[1]))          # w − η·1.7 = −2.9 → −1
    res = train.run(g, updates.extragradient(optax.sgd(eta)), p, KEYS[0], steps=1)
    np.testing.assert_allclose([res.params.min, res.params.max], expected, rtol=1e-6)
    free = train.run(g, updates.extragradient(optax.sgd(eta)), p, KEYS[0], steps=1, project=False)
    np.testing.assert_allclose([free.params.min, free.params.max], [theta - eta * f[0], w - eta * f[1]], rtol=1e-6)
    # an extrapolation that leaves the box: w − ηθ with θ = −0.7 is 1.9, clipped to 1 before F is evaluated
    p = Players(jnp.float32(-0.7), jnp.float32(0.5))
    f = field(-0.7, 0.5)
    th_half, w_half = -0.7 - eta * f[0], clip(0.5 - eta * f[1])
    assert w_half == 1.0
    f = field(th_half, w_half)
    res = train.run(g, updates.extragradient(optax.sgd(eta)), p, KEYS[0], steps=1)
    np.testing.assert_allclose([res.params.min, res.params.max], [-0.7 - eta * f[0], clip(0.5 - eta * f[1])],
                               rtol=1e-6)


def test_wgan_weight_clipping_holds_under_extra_adam():
    from minimax.games import gan_game, init_players, normal_latent
    from minimax.losses import DISTANCES
    from minimax.models import MLPCritic, MLPGenerator
    gen, critic = MLPGenerator(data_shape=(2,), widths=(16,)), MLPCritic(widths=(16,))
    latent = normal_latent(32, 2)
    game = gan_game(gen.apply, critic.apply, DISTANCES["wasserstein"], jax.random.normal(KEYS[0], (32, 2)) + 2.0,
                    latent)
    p0 = init_players(gen, critic, KEYS[1], latent)
    res = jax.jit(lambda p: train.run(game, updates.extragradient(optax.adam(1e-2)), p, KEYS[2], steps=50))(p0)
    largest = max(float(jnp.max(jnp.abs(x))) for x in jax.tree_util.tree_leaves(res.params.max))
    assert largest == pytest.approx(0.01)
    assert max(float(jnp.max(jnp.abs(x))) for x in jax.tree_util.tree_leaves(res.params.min)) > 0.01


def test_field_transform_hook_and_its_structure_check():
    g, eta, gamma = games.bilinear(), 0.1, 0.5
    p = Players(jnp.float32(0.6), jnp.float32(-0.8))
    res = train.run(g, optax.sgd(eta), p, KEYS[0], steps=1, field_transform=fields.consensus(gamma))
    # consensus on x·y: F + γ JᵀF = (y, −x) + γ (x, y)
    np.testing.assert_allclose([res.params.min, res.params.max],
                               [0.6 - eta * (-0.8 + gamma * 0.6), -0.8 - eta * (-0.6 + gamma * -0.8)], rtol=1e-6)
    wrong = lambda field_fn: (lambda params, **kw: field_fn(params, **kw).min)
    with pytest.raises(TypeError, match="field transform '<lambda>'"):
        train.run(g, optax.sgd(eta), p, KEYS[0], steps=1, field_transform=wrong)


def test_carried_game_state_is_updated_after_every_step():
    """A game whose state counts its steps and accumulates θ: the run carries it through blocks and resumes."""
    g = Game(loss=lambda p, key, args, state: p.min * p.max, init_state=lambda params, key, args: jnp.zeros(2),
             update_state=lambda s, params, key, args, step, aux: s + jnp.stack([1.0, params.min]))
    p0 = Players(jnp.float32(0.5), jnp.float32(0.2))
    res = train.run(g, optax.sgd(0.1), p0, KEYS[0], steps=8, record_every=4,
                    metrics=lambda params, key, game, s: {"count": s[0]})
    np.testing.assert_allclose(res.trajectory["count"], [0, 4, 8])
    thetas, p = [], p0
    for _ in range(8):
        p = Players(p.min - 0.1 * p.max, p.max + 0.1 * p.min)
        thetas.append(float(p.min))
    np.testing.assert_allclose(res.state.game_state[1], sum(thetas), rtol=1e-5)


def test_progress_is_reported_once_per_block():
    seen = []
    res = jax.jit(lambda p: train.run(GAME, optax.sgd(0.1), p, KEYS[0], steps=30, record_every=10,
                                      progress=lambda step, diverged: seen.append((int(step), bool(diverged)))))(
        GAME.sample_init(KEYS[1]))
    jax.block_until_ready(res)
    assert seen == [(10, False), (20, False), (30, False)]
    calls = []
    train.sweep(GAME, optax.sgd(0.1), None, KEYS[:2], steps=30, record_every=10,
                progress=lambda step, steps, diverged: calls.append((step, steps, diverged)))
    assert calls == [(10, 30, 0), (20, 30, 0), (30, 30, 0)]


def test_per_seed_games_vmap_over_datasets():
    mats = jnp.stack([jnp.eye(2), 2 * jnp.eye(2), 0.5 * jnp.eye(2)])
    per_seed = games.bilinear(jnp.eye(2)).replace(args=mats, equilibrium=Players(jnp.zeros((3, 2)), jnp.zeros((3, 2))))
    keys = KEYS[:3]
    out = train.sweep(per_seed, updates.extragradient(optax.sgd(0.2)), None, keys, steps=40, record_every=20,
                      seed_games=True)
    for s in range(3):
        k_init, k_run = jax.random.split(keys[s])
        g = games.bilinear(mats[s])
        one = train.run(g, updates.extragradient(optax.sgd(0.2)), g.sample_init(k_init), k_run, steps=40,
                        record_every=20)
        np.testing.assert_allclose(out.trajectory["distance"][s], one.trajectory["distance"], rtol=1e-5)
    with pytest.raises(ValueError, match="seed_games"):
        train.sweep(per_seed, optax.sgd(0.1), None, KEYS[:2], steps=10, seed_games=True)


def test_interrupted_checkpointed_sweep_resumes_to_the_uninterrupted_result(tmp_path):
    hp = train.hyperparameter_grid(lr=[0.1, 0.2], tau=[1.0])
    kwargs = dict(steps=200, record_every=20)
    full = train.sweep(GAME, eg_rule, hp, KEYS[:3], **kwargs)
    polls = iter(range(100))
    stop_after_4 = lambda: next(polls) >= 3
    ckpt = train.Checkpointing(str(tmp_path / "ck"), every=3, config={"what": "test"})
    with pytest.raises(train.Interrupted, match="step 80 of 200"):
        train.sweep(GAME, eg_rule, hp, KEYS[:3], checkpoint=ckpt, stop=stop_after_4, **kwargs)
    with pytest.raises(ValueError, match="holds a checkpoint"):
        train.sweep(GAME, eg_rule, hp, KEYS[:3], checkpoint=ckpt, **kwargs)
    resumed = train.sweep(GAME, eg_rule, hp, KEYS[:3], checkpoint=train.Checkpointing(
        str(tmp_path / "ck"), every=3, resume=True, config={"what": "test"}), **kwargs)
    chex.assert_trees_all_equal(resumed.state, full.state)
    chex.assert_trees_all_equal(resumed.trajectory, full.trajectory)
    chex.assert_trees_all_equal(resumed.stats, full.stats)
    with pytest.raises(ValueError, match=r"differing: config\.what, sweep\.steps"):
        train.sweep(GAME, eg_rule, hp, KEYS[:3], steps=400, record_every=20, checkpoint=train.Checkpointing(
            str(tmp_path / "ck"), resume=True, config={"what": "else"}))


def test_hyperparameter_grid_and_sweep_reject_bad_input():
    with pytest.raises(ValueError, match="lr"):
        train.hyperparameter_grid(lr=[])
    with pytest.raises(ValueError, match="common length"):
        train.sweep(GAME, eg_rule, {"lr": jnp.array([0.1, 0.2]), "tau": jnp.array([1.0])}, KEYS, steps=10)
    with pytest.raises(TypeError, match="keys"):
        train.sweep(GAME, eg_rule, None, jax.random.PRNGKey(0), steps=10)
    with pytest.raises(TypeError, match="key"):
        train.run(GAME, optax.sgd(0.1), GAME.sample_init(KEYS[0]), 0, steps=10)
    with pytest.raises(TypeError, match="Players"):
        train.run(GAME, optax.sgd(0.1), (jnp.float32(1.0), jnp.float32(1.0)), KEYS[0], steps=10)
    with pytest.raises(TypeError, match="floating-point"):
        train.run(GAME, optax.sgd(0.1), Players(jnp.int32(1), jnp.int32(1)), KEYS[0], steps=10)


def test_schedules_for_tau_the_eg_plus_scale_and_the_averaging_rate():
    f = GAME.field_fn()
    p = Players(jnp.float32(0.4), jnp.float32(-0.3))
    tau = lambda count: 2.0 + count  # the inner chain is called twice per EG step
    rule = updates.extragradient(updates.timescaled(optax.sgd(0.1), tau), update_scale=lambda k: 0.5 / (1 + k))
    state = rule.init(p)
    u, state = rule.update(f(p), state, p, field_fn=f)
    half = Players(p.min - 0.1 * f(p).min / 2.0, p.max - 0.1 * f(p).max)
    fh = f(half)
    np.testing.assert_allclose([u.min, u.max], [-0.5 * 0.1 * fh.min / 3.0, -0.5 * 0.1 * fh.max], rtol=1e-6)
    ema = updates.averaging(optax.sgd(0.1), decay=lambda k: jnp.where(k == 0, 0.0, 0.5))
    s = ema.init(p)
    u1, s = ema.update(f(p), s, p)
    p1 = optax.apply_updates(p, u1)
    np.testing.assert_allclose(s.average.min, p1.min)  # decay 0 at k = 0: the average is the iterate
    u2, s = ema.update(f(p1), s, p1)
    np.testing.assert_allclose(s.average.min, 0.5 * p1.min + 0.5 * (p1.min + u2.min), rtol=1e-6)


def test_inject_hyperparams_contract():
    """optax.inject_hyperparams works with the rules' numeric arguments, which then live in the state."""
    f = GAME.field_fn()
    p = Players(jnp.float32(0.4), jnp.float32(-0.3))
    injected = optax.inject_hyperparams(updates.extragradient, static_args=("resample",))(optax.sgd(0.1),
                                                                                          update_scale=0.5)
    direct = updates.extragradient(optax.sgd(0.1), update_scale=0.5)
    u, state = injected.update(f(p), injected.init(p), p, field_fn=f)
    chex.assert_trees_all_close(u, direct.update(f(p), direct.init(p), p, field_fn=f)[0])
    state.hyperparams["update_scale"] = jnp.asarray(0.25)
    u_quarter, _ = injected.update(f(p), state, p, field_fn=f)
    chex.assert_trees_all_close(u_quarter, jax.tree_util.tree_map(lambda x: 0.5 * x, u), rtol=1e-5)
    tau = optax.inject_hyperparams(updates.two_timescale)(tau=4.0)
    u, _ = tau.update(Players(jnp.float32(1.0), jnp.float32(1.0)), tau.init(p))
    assert float(u.min) == 0.25 and float(u.max) == 1.0


def test_seed_axis_shards_across_four_host_devices():
    code = textwrap.dedent("""
        import jax, numpy as np, optax
        from minimax import games, train, updates
        assert len(jax.devices()) == 4
        g = games.dirac_gan("zero_infinity")
        rule = lambda hp: updates.extragradient(optax.sgd(hp["lr"]))
        hp = train.hyperparameter_grid(lr=[0.2, 0.3])
        keys = jax.random.split(jax.random.PRNGKey(0), 3)   # 6 runs on 4 devices: padded to 8
        sharded = train.sweep(g, rule, hp, keys, steps=100, record_every=50)
        plain = train.sweep(g, rule, hp, keys, steps=100, record_every=50, devices=jax.devices()[:1])
        assert len(sharded.state.params.min.sharding.device_set) >= 1
        np.testing.assert_allclose(sharded.trajectory["distance"], plain.trajectory["distance"], rtol=1e-6)
        mapped = train.sweep(g, rule, hp, keys, steps=100, record_every=50, strategy="map")
        np.testing.assert_allclose(mapped.trajectory["distance"], plain.trajectory["distance"], rtol=1e-6)
        print("OK")
    """)
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and "OK" in out.stdout, out.stderr[-2000:]


def test_zero_sum_loss_max_is_the_negated_loss():
    ev = GAME.evaluate(Players(jnp.float32(0.3), jnp.float32(0.2)))
    chex.assert_trees_all_close(ev.field.max, tree_negate(jax.grad(lambda w: GAME.loss(
        Players(jnp.float32(0.3), w), None, None, None))(jnp.float32(0.2))))


def test_remat_gives_the_same_gradient_through_a_run_with_less_memory():
    """d/dη of the final distance after T EG steps of the translation GAN (64 samples per step, 3 parameters),
    differentiated through the whole run: rematerialized steps give the same gradient (and the finite
    difference), and XLA's estimate of the temporary memory drops (one state per step is kept, not every
    step's batch of activations)."""
    g = games.translation_gan()
    p0 = g.sample_init(KEYS[0])

    def final_distance(lr, remat):
        res = train.run(g, updates.extragradient(optax.sgd(lr)), p0, KEYS[1], steps=200, record_every=200,
                        remat=remat)
        return res.trajectory["distance"][-1]

    grad = {r: jax.jit(jax.grad(final_distance), static_argnums=1).lower(jnp.float32(0.05), r).compile()
            for r in (False, True)}
    values = {r: grad[r](jnp.float32(0.05)) for r in grad}
    np.testing.assert_allclose(values[True], values[False], rtol=1e-4)
    fd = (final_distance(0.05 + 1e-3, False) - final_distance(0.05 - 1e-3, False)) / 2e-3
    np.testing.assert_allclose(values[False], fd, rtol=5e-2)
    temp = {r: grad[r].memory_analysis().temp_size_in_bytes for r in grad}
    assert temp[True] < 0.5 * temp[False], temp
