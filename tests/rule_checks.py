"""Small games and dense references shared by the tests of the rules of issue 11 (not a test module).

Dense references are written from the papers' equations with ``jax.jacfwd`` blocks of the field,
independently of the matrix-free code paths they check.
"""
import jax
import jax.numpy as jnp
import numpy as np
import optax

from minimax import Game, Players, spectral_radius


def _zero_sum(p, key=None, args=None, state=None):
    """L = Σ θ²w/2 + sin(θ)w − w²/4 + θ₁θ₂w₁w₂ (θ, w in R²), zero-sum."""
    quadratic = jnp.sum(0.5 * p.min**2 * p.max + jnp.sin(p.min) * p.max - 0.25 * p.max**2)
    return quadratic + jnp.prod(p.min) * jnp.prod(p.max)


def _generator_loss(p, key=None, args=None, state=None):
    return jnp.sum(jnp.cos(p.min) * p.max + 0.3 * p.min**2) + p.min[0] * p.max[1] ** 2


def _critic_loss(p, key=None, args=None, state=None):
    return jnp.sum(0.4 * p.max**2 - p.min * p.max) + 0.2 * jnp.sum(p.max) ** 2 * p.min[1]


ZERO_SUM = Game(loss=_zero_sum, name="zero_sum")
GENERAL_SUM = Game(loss=_generator_loss, max_loss=_critic_loss, name="general_sum")
P0 = Players(jnp.array([0.3, -0.7]), jnp.array([1.1, 0.4]))


def step(rule, field_fn, p, state, **kw):
    """One step of ``rule`` at p: (p + u, new state)."""
    u, state = rule.update(field_fn(p), state, p, field_fn=field_fn, **kw)
    return optax.apply_updates(p, u), state


def run_steps(rule, field_fn, p, n):
    """n steps of ``rule`` from p (one compiled scan): (p_n, state_n)."""
    def body(carry, _):
        return step(rule, field_fn, *carry), None
    return jax.jit(lambda p: jax.lax.scan(body, (p, rule.init(p)), None, length=n)[0])(p)


def radii(make_rule, values, field_fn, params, steps=1):
    """ρ(∂T) of ``make_rule(v)`` for each v of ``values``, vmapped in one compilation (v is traced)."""
    one = lambda v: spectral_radius(make_rule(v), field_fn, params, steps=steps)
    return np.asarray(jax.jit(jax.vmap(one))(jnp.asarray(values, jnp.float32)))


def close(a, b, rtol=1e-5, atol=1e-6):
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b), strict=True):
        np.testing.assert_allclose(x, y, rtol=rtol, atol=atol)


def blocks(field_fn, p):
    """Dense (F_θ, F_w, J_θθ, J_θw, J_wθ, J_ww) at p (players are flat vectors)."""
    f = field_fn(p)
    jac = lambda out, wrt: jax.jacfwd(lambda x: getattr(field_fn(p._replace(**{wrt: x})), out))(getattr(p, wrt))
    return (np.asarray(f.min), np.asarray(f.max), np.asarray(jac("min", "min")), np.asarray(jac("min", "max")),
            np.asarray(jac("max", "min")), np.asarray(jac("max", "max")))


def dense_cgd_step(field_fn, p, eta_min, eta_max):
    """Schäfer & Anandkumar's general-sum CGD step with (diagonal) step sizes, both players solved for:
    Δθ = −(I − H_θ J_θw H_w J_wθ)⁻¹ H_θ (F_θ − J_θw H_w F_w), and symmetrically Δw."""
    f_t, f_w, _, j_tw, j_wt, _ = blocks(field_fn, p)
    h_t, h_w = np.diag(np.broadcast_to(eta_min, f_t.shape)), np.diag(np.broadcast_to(eta_max, f_w.shape))
    d_t = -np.linalg.solve(np.eye(len(f_t)) - h_t @ j_tw @ h_w @ j_wt, h_t @ (f_t - j_tw @ h_w @ f_w))
    d_w = -np.linalg.solve(np.eye(len(f_w)) - h_w @ j_wt @ h_t @ j_tw, h_w @ (f_w - j_wt @ h_t @ f_t))
    return Players(d_t, d_w)
