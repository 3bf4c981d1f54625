"""Contract suite over every registered update rule, and each rule against its equation."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from minimax import Game, Players, games, updates
from minimax.updates import RULES

ETA = 0.1
# A nonlinear game with a non-trivial field: L = θ²w/2 + sin(θ) w − w²/4 (θ, w in R²).
LOSS = lambda p, key=None, args=None, state=None: jnp.sum(0.5 * p.min**2 * p.max + jnp.sin(p.min) * p.max
                                                          - 0.25 * p.max**2)
GAME = Game(loss=LOSS, name="nonlinear")
F = GAME.field_fn()
P0 = Players(jnp.array([0.3, -0.7]), jnp.array([1.1, 0.4]))
NEEDS_FIELD_FN = ["alt_gda", "alt_gda5", "alt_gda_gen_first", "eg", "eg_plus", "eg_avg"]


def step(rule, p, state):
    u, state = rule.update(F(p), state, p, field_fn=F)
    return optax.apply_updates(p, u), state


def close(a, b, **kw):
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)):
        np.testing.assert_allclose(x, y, rtol=kw.get("rtol", 1e-5), atol=kw.get("atol", 1e-6))


def sub(a, b, s=1.0):
    return jax.tree_util.tree_map(lambda x, y: x - s * y, a, b)


# --- the contract every rule satisfies ----------------------------------------------------

@pytest.mark.parametrize("name", sorted(RULES))
def test_rule_is_an_extra_args_transformation_preserving_structure_and_jit(name):
    rule = updates.rule(name, optax.sgd(ETA))
    assert isinstance(rule, optax.GradientTransformationExtraArgs)
    state = rule.init(P0)
    p1, _ = step(rule, P0, state)
    assert jax.tree_util.tree_structure(p1) == jax.tree_util.tree_structure(P0)
    p1_jit, _ = jax.jit(lambda p, s: step(rule, p, s))(P0, state)
    close(p1, p1_jit)
    assert not np.allclose(p1.min, P0.min)  # the rule moved the point


@pytest.mark.parametrize("name", sorted(RULES))
def test_rule_composes_with_adam_clipping_and_schedules(name):
    schedule = optax.exponential_decay(0.05, transition_steps=1, decay_rate=0.5)
    inner = optax.chain(optax.clip_by_global_norm(0.01), optax.scale_by_adam(), optax.scale_by_schedule(schedule),
                        optax.scale(-1.0))
    rule = updates.rule(name, inner)
    p, state = P0, rule.init(P0)
    for _ in range(3):
        p_new, state = step(rule, p, state)
        assert all(np.all(np.isfinite(x)) for x in jax.tree_util.tree_leaves(p_new))
        p = p_new
    # Adam's step per coordinate is at most lr (|m̂/√v̂| <= 1); the schedule halves lr every inner call.
    half_steps = {"alt_gda": 2, "alt_gda5": 6, "alt_gda_gen_first": 2, "eg": 2, "eg_plus": 2, "eg_avg": 2}.get(name, 1)
    bound = sum(0.05 * 0.5**k for k in range(3 * half_steps)) + 1e-6
    assert float(jnp.max(jnp.abs(jnp.concatenate([p.min - P0.min, p.max - P0.max])))) <= 5 * bound


@pytest.mark.parametrize("name", NEEDS_FIELD_FN)
def test_missing_field_fn_is_a_clear_error(name):
    rule = updates.rule(name, optax.sgd(ETA))
    with pytest.raises(ValueError, match="field_fn"):
        rule.update(F(P0), rule.init(P0), P0)


def test_unknown_rule_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown update rule 'egg'.*'eg'"):
        updates.rule("egg", optax.sgd(ETA))


# --- each rule against its update equation (inner = sgd(η)) ----------------------------------

def test_gda_is_p_minus_eta_F():
    p1, _ = step(updates.simultaneous(optax.sgd(ETA)), P0, optax.sgd(ETA).init(P0))
    close(p1, sub(P0, F(P0), ETA))


def test_extragradient_equation_and_eg_plus_scale():
    expected = sub(P0, F(sub(P0, F(P0), ETA)), ETA)
    rule = updates.extragradient(optax.sgd(ETA))
    close(step(rule, P0, rule.init(P0))[0], expected)
    plus = updates.extragradient(optax.sgd(ETA), update_scale=0.5)
    close(step(plus, P0, plus.init(P0))[0], sub(P0, F(sub(P0, F(P0), ETA)), 0.5 * ETA))


def test_two_timescale_extragradient_equation():
    tau = 4.0
    lam = lambda f: Players(f.min / tau, f.max)
    expected = sub(P0, lam(F(sub(P0, lam(F(P0)), ETA))), ETA)
    rule = updates.extragradient(optax.chain(updates.two_timescale(tau), optax.sgd(ETA)))
    close(step(rule, P0, rule.init(P0))[0], expected)


def test_extra_adam_advances_the_inner_state_through_both_half_steps():
    adam = optax.adam(0.01)
    s0 = adam.init(P0)
    u1, s1 = adam.update(F(P0), s0, P0)
    u2, s2 = adam.update(F(optax.apply_updates(P0, u1)), s1, P0)
    rule = updates.extragradient(optax.adam(0.01))
    p1, state = step(rule, P0, rule.init(P0))
    close(p1, optax.apply_updates(P0, u2))
    assert int(state.inner_state[0].count) == 2 == int(s2[0].count)


@pytest.mark.parametrize("M", [1, 5])
def test_alternating_equation(M):
    w = P0.max
    for _ in range(M):
        w = w - ETA * F(Players(P0.min, w)).max
    theta = P0.min - ETA * F(Players(P0.min, w)).min
    rule = updates.alternating(optax.sgd(ETA), max_steps=M)
    close(step(rule, P0, rule.init(P0))[0], Players(theta, w))


@pytest.mark.parametrize("M", [1, 3])
def test_alternating_generator_first_equation(M):
    theta = P0.min - ETA * F(P0).min
    w = P0.max
    for _ in range(M):
        w = w - ETA * F(Players(theta, w)).max
    rule = updates.alternating(optax.sgd(ETA), max_steps=M, order="generator_first")
    close(step(rule, P0, rule.init(P0))[0], Players(theta, w))
    with pytest.raises(ValueError, match="order"):
        updates.alternating(optax.sgd(ETA), order="both")


def draws_field(p, draw=0):
    """A field that depends on the minibatch index: F shifted by draw (to see which draw a rule uses)."""
    f = F(p)
    return Players(f.min + draw, f.max + 10.0 * draw)


def test_resampling_rules_use_a_fresh_draw_for_every_later_evaluation():
    f0 = draws_field(P0)
    # EG: the extrapolation uses F(p_k) (draw 0), the update F(p̃) on draw 1
    p_half = sub(P0, f0, ETA)
    rule = updates.extragradient(optax.sgd(ETA), resample=True)
    out, _ = rule.update(f0, rule.init(P0), P0, field_fn=draws_field)
    close(optax.apply_updates(P0, out), sub(P0, draws_field(p_half, 1), ETA))
    out, _ = updates.extragradient(optax.sgd(ETA)).update(f0, rule.init(P0), P0, field_fn=draws_field)
    close(optax.apply_updates(P0, out), sub(P0, draws_field(p_half, 0), ETA))
    # alternating, critic first, M = 3: critic steps on draws 0, 1, 2 and the generator on draw 3
    w = P0.max
    for m in range(3):
        w = w - ETA * draws_field(Players(P0.min, w), m).max
    theta = P0.min - ETA * draws_field(Players(P0.min, w), 3).min
    rule = updates.alternating(optax.sgd(ETA), max_steps=3, resample=True)
    out, _ = rule.update(f0, rule.init(P0), P0, field_fn=draws_field)
    close(optax.apply_updates(P0, out), Players(theta, w))


def test_alternating_with_a_traced_number_of_max_steps_matches_the_static_one():
    def one(M):
        rule = updates.alternating(optax.sgd(ETA), max_steps=M)
        return step(rule, P0, rule.init(P0))[0]
    batched = jax.jit(jax.vmap(one))(jnp.array([1, 5]))
    for i, M in enumerate([1, 5]):
        close(jax.tree_util.tree_map(lambda x: x[i], batched), one(M))
    with pytest.raises(ValueError, match="max_steps"):
        updates.alternating(optax.sgd(ETA), max_steps=0)


def test_optimistic_adam_is_the_daskalakis_recursion():
    """θ_{k+1} = θ_k − 2η â_k + η â_{k−1}, â_k Adam's normalized direction (Daskalakis et al. 2018, Alg. 1),
    written out by hand with Adam's moments; the first step is plain Adam (â_{−1} := â_0)."""
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    m = v = jax.tree_util.tree_map(jnp.zeros_like, P0)
    p, prev, expected = P0, None, []
    for k in range(1, 5):
        g = F(p)
        m = jax.tree_util.tree_map(lambda m_, g_: b1 * m_ + (1 - b1) * g_, m, g)
        v = jax.tree_util.tree_map(lambda v_, g_: b2 * v_ + (1 - b2) * g_**2, v, g)
        a = jax.tree_util.tree_map(lambda m_, v_: (m_ / (1 - b1**k)) / (jnp.sqrt(v_ / (1 - b2**k)) + eps), m, v)
        prev = a if prev is None else prev
        p = jax.tree_util.tree_map(lambda x, a_, b_: x - 2 * lr * a_ + lr * b_, p, a, prev)
        prev = a
        expected.append(p)
    rule = updates.optimistic(optax.adam(lr, b1=b1, b2=b2, eps=eps))
    q, state = P0, rule.init(P0)
    for k in range(4):
        q, state = step(rule, q, state)
        close(q, expected[k], rtol=1e-5, atol=1e-7)
    # optax's optimistic Adam (without its Nesterov default) is the same recursion
    reference = optax.optimistic_adam_v2(1.0, alpha=lr, beta=lr, b1=b1, b2=b2, eps=eps, nesterov=False)
    q, state = P0, reference.init(P0)
    for k in range(4):
        u, state = reference.update(F(q), state, q)
        q = optax.apply_updates(q, u)
        close(q, expected[k], rtol=1e-5, atol=1e-7)


def test_optimistic_gda_equation_over_two_steps():
    rule = updates.optimistic(optax.sgd(ETA))
    p1, state = step(rule, P0, rule.init(P0))
    close(p1, sub(P0, F(P0), ETA))  # F_{−1} := F_0: the first step is plain GDA
    p2, _ = step(rule, p1, state)
    close(p2, jax.tree_util.tree_map(lambda p, a, b: p - ETA * (2 * a - b), p1, F(p1), F(P0)))


def test_uniform_and_ema_averages_of_the_iterates():
    iterates, p = [], P0
    for _ in range(4):
        p = sub(p, F(p), ETA)
        iterates.append(p)
    mean = jax.tree_util.tree_map(lambda *xs: sum(xs) / len(xs), *iterates)
    for decay, expected in [(None, mean)]:
        rule = updates.averaging(optax.sgd(ETA), decay=decay)
        q, state = P0, rule.init(P0)
        for _ in range(4):
            q, state = step(rule, q, state)
        close(q, iterates[-1])  # averaging does not change the iterates
        close(updates.averaged_params(state, q), expected)
    ema = P0
    for it in iterates:
        ema = jax.tree_util.tree_map(lambda a, b: 0.9 * a + 0.1 * b, ema, it)
    rule = updates.averaging(optax.sgd(ETA), decay=0.9)
    q, state = P0, rule.init(P0)
    for _ in range(4):
        q, state = step(rule, q, state)
    close(updates.averaged_params(state, q), ema)
    assert updates.averaged_params(optax.sgd(ETA).init(P0), q) is q


def test_projections_land_in_their_sets():
    p = Players(jnp.array([3.0, -0.2]), jnp.array([2.0, -5.0]))
    boxed = updates.on_max_player(updates.box(-1.0, 1.0))(p)
    np.testing.assert_allclose(boxed.max, [1.0, -1.0])
    np.testing.assert_allclose(boxed.min, p.min)
    balled = updates.ball(2.0)(p)
    np.testing.assert_allclose(optax.tree_utils.tree_norm(balled), 2.0, rtol=1e-6)
    inside = Players(jnp.array([0.1, 0.2]), jnp.array([0.3, 0.0]))
    close(updates.ball(2.0)(inside), inside)
    rule = updates.extragradient(optax.chain(optax.sgd(10.0), updates.project(updates.on_max_player(updates.box(-1, 1)))))
    q, _ = step(rule, P0, rule.init(P0))
    assert float(jnp.max(jnp.abs(q.max))) <= 1.0
    with pytest.raises(ValueError, match="lower"):
        updates.box(1.0, -1.0)
    # The game records build their projections inside jit too (no Python bool of a traced value).
    np.testing.assert_allclose(jax.jit(lambda p: games.dirac_gan("wasserstein").projection(p))(p).max, [1.0, -1.0])


@pytest.mark.parametrize("bad", [0.0, -2.0, float("nan")])
def test_bad_hyperparameters_are_named(bad):
    with pytest.raises(ValueError, match="tau"):
        updates.two_timescale(bad)
    with pytest.raises(ValueError, match="radius"):
        updates.ball(bad)


def test_hyperparameters_are_traced_so_a_sweep_compiles_once():
    traces = []

    @jax.jit
    def one_step(lr, tau, beta):
        traces.append(1)
        rule = updates.extragradient(optax.chain(updates.two_timescale(tau), optax.sgd(lr)), update_scale=beta)
        return step(rule, P0, rule.init(P0))[0]

    a = one_step(0.1, 2.0, 1.0)
    b = one_step(0.2, 5.0, 0.5)
    assert len(traces) == 1
    assert not np.allclose(a.min, b.min)
    lam = lambda f: Players(f.min / 5.0, f.max)
    close(b, sub(P0, lam(F(sub(P0, lam(F(P0)), 0.2))), 0.1))


def test_timescaled_divides_the_min_players_step_after_adam():
    """Λ_τ after Adam: the generator's update is Adam's divided by τ (before Adam, τ would cancel)."""
    field = Players(jnp.array([0.3, -2.0]), jnp.array([1.0]))
    adam = optax.adam(0.01)
    u_ref, _ = adam.update(field, adam.init(field), field)
    inner = updates.timescaled(optax.adam(0.01), 4.0)
    u, _ = inner.update(field, inner.init(field), field)
    np.testing.assert_allclose(u.min, u_ref.min / 4.0, rtol=1e-6)
    np.testing.assert_allclose(u.max, u_ref.max, rtol=1e-6)
    before = optax.chain(updates.two_timescale(4.0), optax.adam(0.01))
    u_before, _ = before.update(field, before.init(field), field)
    np.testing.assert_allclose(u_before.min, u_ref.min, rtol=1e-4)  # the scale-invariance that motivates the order
    projected = updates.timescaled(optax.sgd(10.0), 2.0, updates.on_max_player(updates.box(-1.0, 1.0)))
    u, _ = projected.update(field, projected.init(field), field)
    np.testing.assert_allclose(u.max, [-1.0 - 1.0], rtol=1e-6)  # w = 1 − 10·1 clipped to −1
