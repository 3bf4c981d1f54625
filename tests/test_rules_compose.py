"""Every rule of issue 11 composes with the rest of minimax: Adam inside a compiled training run, a
constrained game, ``projection=`` on its intermediate points, ``timescaled``, ``optax.inject_hyperparams``
and a vmapped hyperparameter sweep that traces once."""
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from minimax import games, train, updates
from minimax.game import Players
from rule_checks import P0, ZERO_SUM, close, step

NEW = ["cgd", "acgd", "sga", "conopt", "hgd", "lookahead", "lookahead_eg", "eag", "feg", "ftr", "unrolled"]
F0 = ZERO_SUM.field_fn()


@pytest.mark.parametrize("name", NEW)
def test_adam_inside_a_compiled_run_on_a_constrained_game(name):
    """The Wasserstein Dirac GAN keeps its critic in |w| <= 1: 30 steps of rule(adam) stay finite and inside
    the box, and move (Adam's steps are at most its learning rate per coordinate: |Δθ| <= 30 · 0.05 · c, with
    c = 2 for the two half-steps of the extragradient-type rules, and Lookahead and the adjustments within it)."""
    g = games.dirac_gan("wasserstein")
    out = train.run(g, updates.rule(name, optax.adam(0.05)), Players(jnp.array(1.0), jnp.array(0.5)),
                    jax.random.PRNGKey(0), steps=30)
    assert not bool(out.diverged)
    assert abs(float(out.params.max)) <= 1.0
    assert 0 < abs(float(out.params.min) - 1.0) <= 30 * 0.05 * 2


def _outside_is_nan(p):
    """F on the box [−1, 1]⁴, NaN outside it: a rule that evaluates F at an unprojected point fails."""
    outside = jnp.any(jnp.abs(jnp.concatenate([p.min, p.max])) > 1.0)
    return jax.tree_util.tree_map(lambda x: x + jnp.where(outside, jnp.nan, 0.0), F0(p))


@pytest.mark.parametrize("name", NEW)
def test_intermediate_points_are_projected(name):
    """Large steps (sgd(0.8)) from a point near the box's boundary: every point the rule evaluates F at
    (extrapolations, unrolled critic steps, fast weights) and every iterate P(p + u) stays in the box."""
    box = updates.box(-1.0, 1.0)
    rule = updates.rule(name, optax.sgd(0.8))

    def run(p):
        def body(carry, _):
            p, s = carry
            p_new, s = step(rule, _outside_is_nan, p, s, projection=box)
            return (box(p_new), s), None
        return jax.lax.scan(body, (p, rule.init(p)), None, length=4)[0][0]

    p = jax.jit(run)(Players(jnp.array([0.95, -0.9]), jnp.array([0.9, 0.99])))
    flat = np.concatenate(p)
    assert np.all(np.isfinite(flat)) and np.all(np.abs(flat) <= 1.0)


#: name -> (factory (inner, v) -> rule with a traced hyperparameter v of its own, two values of v)
SWEEPS = {
    "cgd": (lambda inner, v: updates.cgd(inner, learning_rate=v, solver="bicgstab"), (0.1, 0.5)),
    "acgd": (lambda inner, v: updates.acgd(inner, eps=v, solver="bicgstab"), (1e-8, 1.0)),
    "sga": (lambda inner, v: updates.symplectic_gradient_adjustment(inner, v), (0.5, 2.0)),
    "conopt": (lambda inner, v: updates.consensus_optimization(inner, v), (0.5, 2.0)),
    "hgd": (lambda inner, v: updates.hamiltonian_descent(optax.chain(inner, optax.scale(v))), (1.0, 2.0)),
    "lookahead": (lambda inner, v: updates.lookahead(updates.simultaneous(inner), sync_period=1, alpha=v), (0.3, 0.9)),
    "lookahead_eg": (lambda inner, v: updates.lookahead(updates.extragradient(inner), sync_period=1, alpha=v),
                     (0.3, 0.9)),
    "eag": (lambda inner, v: updates.extra_anchored_gradient(optax.chain(inner, optax.scale(v))), (1.0, 2.0)),
    "feg": (lambda inner, v: updates.fast_extragradient(inner, rho=v), (0.0, 0.1)),
    "ftr": (lambda inner, v: updates.follow_the_ridge(inner, damping=v), (0.0, 1.0)),
    "unrolled": (lambda inner, v: updates.unrolled(optax.chain(inner, optax.scale(v)), 2), (1.0, 2.0)),
}


def test_every_new_rule_has_a_sweep():
    assert sorted(SWEEPS) == sorted(NEW)


@pytest.mark.parametrize("name", NEW)
def test_vmapped_sweep_over_tau_and_a_hyperparameter_traces_once(name):
    """Members (τ, v): (1, v0), (100, v0), (1, v1), two steps from P0 with inner = timescaled(sgd(0.1), τ).
    Λ_τ reaches the min player: its first step is ≈ 1/100 as long at τ = 100 (the rules are linear in the
    min player's step sizes to first order); v changes the result; a member does not depend on the others."""
    make, (v0, v1) = SWEEPS[name]
    traces = []

    @jax.jit
    @jax.vmap
    def two_steps(tau, v):
        traces.append(1)
        rule = make(updates.timescaled(optax.sgd(0.1), tau), v)
        p1, s = step(rule, F0, P0, rule.init(P0))
        return p1, step(rule, F0, p1, s)[0]

    taus, vs = jnp.array([1.0, 100.0, 1.0]), jnp.array([v0, v0, v1])
    first, second = two_steps(taus, vs)
    moved = lambda i: float(jnp.linalg.norm(first.min[i] - P0.min))
    assert 0.004 < moved(1) / moved(0) < 0.02
    assert not np.allclose(second.max[0], second.max[2])
    again = two_steps(taus[::-1], vs[::-1])[1]
    close(jax.tree_util.tree_map(lambda x: x[2], again), jax.tree_util.tree_map(lambda x: x[0], second))
    assert len(traces) == 1


#: Factories whose hyperparameters are their own arguments: (factory, static args, kwargs, a second value).
INJECTABLE = {
    "cgd": (partial(updates.cgd, solver="cg"), ("solver", "max_steps"), {"learning_rate": 0.1}, 0.4),
    "acgd": (partial(updates.acgd, solver="cg"), ("solver", "max_steps"), {"eps": 1e-8}, 0.5),
    "sga": (updates.symplectic_gradient_adjustment, (), {"lam": 1.0}, 3.0),
    "conopt": (updates.consensus_optimization, (), {"gamma": 1.0}, 3.0),
    "feg": (updates.fast_extragradient, (), {"rho": 0.0}, 0.2),
    "ftr": (updates.follow_the_ridge, ("solver", "max_steps"), {"damping": 0.0}, 1.0),
}


@pytest.mark.parametrize("name", sorted(INJECTABLE))
def test_inject_hyperparams_exposes_the_rule_hyperparameter_in_the_state(name):
    factory, static, kwargs, new_value = INJECTABLE[name]
    (hp, value), = kwargs.items()
    injected = optax.inject_hyperparams(factory, static_args=static)(optax.sgd(0.1), **kwargs)

    @jax.jit
    def both(new):
        state = injected.init(P0)
        p1, _ = step(injected, F0, P0, state)
        state.hyperparams[hp] = new
        return p1, step(injected, F0, P0, state)[0]

    def reference(v):
        rule = factory(optax.sgd(0.1), **{hp: v})
        return step(rule, F0, P0, rule.init(P0))[0]

    p_default, p_new = both(jnp.asarray(new_value, jnp.float32))
    close(p_default, jax.jit(lambda: reference(value))(), rtol=1e-4)
    close(p_new, jax.jit(lambda: reference(new_value))(), rtol=1e-4)


def test_lookahead_alpha_and_the_inner_learning_rate_can_be_injected():
    """Lookahead's α (its sync_period static), and the inner step of the rules without own numbers."""
    injected = optax.inject_hyperparams(updates.lookahead, static_args=("sync_period",))(
        updates.simultaneous(optax.sgd(0.1)), sync_period=1, alpha=0.5)
    state = injected.init(P0)
    state.hyperparams["alpha"] = jnp.asarray(0.25)
    p1, _ = step(injected, F0, P0, state)
    close(p1, jax.tree_util.tree_map(lambda p, f: p - 0.25 * 0.1 * f, P0, F0(P0)))  # φ + α(p̃ − φ), φ = p_0
    for name in ("hgd", "eag", "unrolled", "lookahead_eg"):
        rule = updates.rule(name, optax.inject_hyperparams(optax.sgd)(learning_rate=0.1))
        close(jax.jit(lambda: step(rule, F0, P0, rule.init(P0))[0])(),
              jax.jit(lambda: step(updates.rule(name, optax.sgd(0.1)), F0, P0,
                                   updates.rule(name, optax.sgd(0.1)).init(P0))[0])())


@pytest.mark.parametrize("name", [n for n in NEW if n != "lookahead"])
def test_missing_field_fn_is_a_clear_error(name):
    rule = updates.rule(name, optax.sgd(0.1))
    with pytest.raises(ValueError, match="field_fn"):
        rule.update(F0(P0), rule.init(P0), P0)


@pytest.mark.parametrize("make,match", [
    (lambda: updates.cgd(optax.sgd(0.1), solver="lu"), "solver"),
    (lambda: updates.cgd(optax.sgd(0.1), max_steps=0), "max_steps"),
    (lambda: updates.cgd(optax.sgd(0.1), tol=0.0), "tol"),
    (lambda: updates.cgd(optax.sgd(0.1), learning_rate=-1.0), "learning_rate"),
    (lambda: updates.acgd(optax.sgd(0.1), b2=0.0), "b2"),
    (lambda: updates.follow_the_ridge(optax.sgd(0.1), damping=-1.0), "damping"),
    (lambda: updates.follow_the_ridge(optax.sgd(0.1), max_steps=2.5), "max_steps"),
    (lambda: updates.lookahead(updates.simultaneous(optax.sgd(0.1)), sync_period=0), "sync_period"),
    (lambda: updates.lookahead(updates.simultaneous(optax.sgd(0.1)), alpha=0.0), "alpha"),
    (lambda: updates.unrolled(optax.sgd(0.1), -1), "unroll_steps"),
])
def test_bad_hyperparameters_are_named(make, match):
    with pytest.raises(ValueError, match=match):
        make()
