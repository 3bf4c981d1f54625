"""Competitive gradient descent (CGD) and adaptive CGD (ACGD), matrix-free.

Each player's step is its part of the Nash equilibrium of the *local* game in which player i
minimizes the bilinear expansion of its loss, regularized by its own step sizes H_i
(positive, diagonal):

    Δθ = argmin_Δθ  Δθᵀ F_θ + Δθᵀ J_θw Δw + ½ Δθᵀ H_θ⁻¹ Δθ   ⇒   Δθ = −H_θ (F_θ + J_θw Δw)
    Δw = argmin_Δw  Δwᵀ F_w + Δwᵀ J_wθ Δθ + ½ Δwᵀ H_w⁻¹ Δw   ⇒   Δw = −H_w (F_w + J_wθ Δθ)

with F = (F_θ, F_w) the descent field, J_θw = ∂F_θ/∂w and J_wθ = ∂F_w/∂θ its mixed second
derivatives (Hessian-vector products by ``jax.linearize``, never dense). Substituting one
equation in the other, for H = ηI (general-sum):

    Δθ = −η (I − η² J_θw J_wθ)⁻¹ (F_θ − η J_θw F_w),
    Δw = −η (I − η² J_wθ J_θw)⁻¹ (F_w − η J_wθ F_θ).

For a zero-sum game (L_w = −L) J_θw = D²_θw L and J_wθ = −D²_wθ L, and this is Schäfer &
Anandkumar's zero-sum update: Δθ = −η (I + η² D_θw D_wθ)⁻¹ (∇_θ L + η D_θw ∇_w L),
Δw = η (I + η² D_wθ D_θw)⁻¹ (∇_w L − η D_wθ ∇_θ L).

Computation: with S = H_θ^{1/2}, z = S⁻¹(−Δθ) solves

    (I − S J_θw H_w J_wθ S) z = S (F_θ − J_θw H_w F_w)

by a Krylov method (:func:`minimax.updates.krylov.solve`); then Δθ = −S z, Δw = −H_w (F_w + J_wθ Δθ)
(the critic's exact reaction to Δθ, as ACGD's reference implementation computes it). For a zero-sum game the
operator is I + S J_θw H_w J_θwᵀ S, symmetric positive definite, so ``solver="cg"`` applies; a
general-sum game needs ``"gmres"`` (default) or ``"bicgstab"``. One Krylov iteration costs two
Jacobian-vector products of F.

The rules hand the *anticipating field* d = F + J_off Δ (each player's field, linearized at the
opponent's anticipated move: Δ = −H d) to the inner transformation, scaled by the adaptive
factor D of ACGD (D = 1 for CGD): the update is inner(D ⊙ d). The step sizes H come from the
inner transformation's response to a unit field, P = max(−inner(𝟙), 0) (the inner state is not
advanced by this probe), or from ``learning_rate`` when given:

* inner = sgd(η): P = η, and the update inner(d) = −η d = Δ is exactly CGD with step η.
* inner = ``timescaled(sgd(η), τ)``: P = (η/τ, η), two-timescale CGD (H_θ = η/τ, H_w = η).
* a stateful inner (Adam): P is the step it would take for a unit field, and the update is
  Adam on d. For an adaptive method prefer :func:`acgd` around sgd, or fix the
  anticipation with ``learning_rate``.

On the unit bilinear game x·y with sgd(η) the linearized map is (1/(1 + η²))[[1, −η], [η, 1]]:
spectral radius 1/√(1 + η²) (1/√(1 + η²/τ) two-timescale).
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from minimax import validation
from minimax.game import Players
from minimax.updates.base import check_positive, require_field_fn, require_params
from minimax.updates.krylov import check_solver, player_jvp, solve

tree_map = jax.tree_util.tree_map
_mul = optax.tree_utils.tree_mul


def _step_sizes(inner, inner_state, params, learning_rate, kw):
    """H: ``learning_rate`` on every coordinate, or the inner's step for a unit field, max(−inner(𝟙), 0)."""
    if learning_rate is not None:
        return tree_map(lambda x: jnp.full_like(x, learning_rate), params)
    unit, _ = inner.update(optax.tree_utils.tree_ones_like(params), inner_state, params, **kw)
    return tree_map(lambda u: jnp.maximum(-u, 0.0), unit)


def anticipating_field(field_fn, params, field, steps: Players, *, solver: str, tol, max_steps: int) -> Players:
    """d = F + J_off Δ with Δ = −H ⊙ d, the Nash step of the local game with step sizes H = ``steps``.

    See the module docstring for the equations; d is returned, the CGD step is Δ = −H ⊙ d.
    """
    _, j_wt = player_jvp(field_fn, params, "min", "max")   # v ↦ J_wθ v
    _, j_tw = player_jvp(field_fn, params, "max", "min")   # v ↦ J_θw v
    s = tree_map(jnp.sqrt, steps.min)
    rhs = _mul(s, optax.tree_utils.tree_sub(field.min, j_tw(_mul(steps.max, field.max))))
    op = lambda z: optax.tree_utils.tree_sub(z, _mul(s, j_tw(_mul(steps.max, j_wt(_mul(s, z))))))
    z = solve(op, rhs, solver=solver, tol=tol, max_steps=max_steps)
    step_min = tree_map(jnp.negative, _mul(s, z))
    d_max = optax.tree_utils.tree_add(field.max, j_wt(step_min))
    d_min = optax.tree_utils.tree_add(field.min, j_tw(tree_map(jnp.negative, _mul(steps.max, d_max))))
    return Players(d_min, d_max)


def _check(rule, solver, tol, max_steps, learning_rate):
    check_solver(rule, solver, tol, max_steps)
    if learning_rate is not None:
        check_positive("learning_rate", learning_rate, rule=rule)


def cgd(inner: optax.GradientTransformation, *, learning_rate=None, solver: str = "gmres", tol=1e-5,
        max_steps: int = 20) -> optax.GradientTransformationExtraArgs:
    """Competitive gradient descent (CGD), matrix-free; see the module docstring for the equations.

        d = F + J_off Δ,  Δ = −H d   (the local game's Nash step),   update = inner(d)

    ``cgd(optax.sgd(η))`` is CGD with step η: Δθ = −η (I − η² J_θw J_wθ)⁻¹ (F_θ − η J_θw F_w)
    and symmetrically for w. H is read from ``inner`` (its step for a unit field) unless
    ``learning_rate`` is given.

    Args:
      inner: the optax transformation applied to the anticipating field d (sgd(η) for CGD).
      learning_rate: η of the local game, a number (traceable); None (default) reads the
        step sizes from ``inner``.
      solver: "gmres" (default, any game), "bicgstab", or "cg" (zero-sum games only: the
        operator is then symmetric positive definite).
      tol: relative residual of the linear solve (traceable).
      max_steps: iteration cap of the linear solve (static).

    Requires the keyword extra argument ``field_fn`` (the Jacobian products are taken of it).
    The state is the inner transformation's.

    Reference: Schäfer, Anandkumar, "Competitive gradient descent", NeurIPS 2019.
    """
    _check("cgd", solver, tol, max_steps, learning_rate)
    inner = optax.with_extra_args_support(inner)

    def update(field, state, params=None, *, field_fn=None, projection=None, **extra):
        require_params(params, "cgd", field)
        require_field_fn(field_fn, "cgd")
        kw = dict(extra, field_fn=field_fn, projection=projection)
        steps = _step_sizes(inner, state, params, learning_rate, kw)
        d = anticipating_field(field_fn, params, field, steps, solver=solver, tol=tol, max_steps=max_steps)
        return inner.update(d, state, params, **kw)

    return optax.GradientTransformationExtraArgs(inner.init, update)


class ACGDState(NamedTuple):
    inner_state: optax.OptState
    nu: optax.Updates  # exponential moving average of F², per coordinate
    count: jax.Array


def acgd(inner: optax.GradientTransformation, *, b2=0.99, eps=1e-8, learning_rate=None, solver: str = "gmres",
         tol=1e-5, max_steps: int = 20) -> optax.GradientTransformationExtraArgs:
    """Adaptive competitive gradient descent (ACGD): CGD with RMSProp-like per-coordinate step sizes.

        ν_{k+1} = b2 ν_k + (1 − b2) F(p_k)²,   ν̂ = ν_{k+1} / (1 − b2^{k+1}),   D = 1 / (√ν̂ + ε)
        H = η D  (per player, per coordinate),   d = F + J_off Δ,  Δ = −H d,   update = inner(D ⊙ d)

    With inner = sgd(η) the update is Δ, Schäfer, Zheng & Anandkumar's Algorithm 1 (their
    implementation writes the step sizes η√(1 − b2^k)/(√ν + ε), which differs only in where ε
    enters). Zero-sum: the
    system (I + H_θ^{1/2} D_θw H_w D_wθ H_θ^{1/2}) z = ... is symmetric positive definite
    (``solver="cg"``, as in the paper); general-sum: "gmres" (default) or "bicgstab". η is read
    from ``inner`` as in :func:`cgd` unless ``learning_rate`` is given.

    Args:
      inner: the transformation applied to D ⊙ d (sgd(η) for ACGD).
      b2: decay of the second-moment estimate ν, in (0, 1) (traceable).
      eps: added to √ν̂ (traceable).
      learning_rate, solver, tol, max_steps: as in :func:`cgd`.

    Requires the keyword extra argument ``field_fn``.

    Reference: Schäfer, Zheng, Anandkumar, "Implicit competitive regularization in GANs",
    ICML 2020, Algorithm 1 (ACGD).
    """
    _check("acgd", solver, tol, max_steps, learning_rate)
    validation.number("acgd", "b2", b2, low=0, high=1, low_open=True, high_open=True)
    check_positive("eps", eps, rule="acgd")
    inner = optax.with_extra_args_support(inner)

    def init(params):
        return ACGDState(inner.init(params), optax.tree_utils.tree_zeros_like(params), jnp.zeros([], jnp.int32))

    def update(field, state, params=None, *, field_fn=None, projection=None, **extra):
        require_params(params, "acgd", field)
        require_field_fn(field_fn, "acgd")
        kw = dict(extra, field_fn=field_fn, projection=projection)
        count = optax.safe_increment(state.count)
        nu = optax.tree_utils.tree_update_moment_per_elem_norm(field, state.nu, b2, 2)
        nu_hat = optax.tree_utils.tree_bias_correction(nu, b2, count)
        scale = tree_map(lambda v: 1.0 / (jnp.sqrt(v) + eps), nu_hat)
        steps = _mul(_step_sizes(inner, state.inner_state, params, learning_rate, kw), scale)
        d = anticipating_field(field_fn, params, field, steps, solver=solver, tol=tol, max_steps=max_steps)
        u, inner_state = inner.update(_mul(scale, d), state.inner_state, params, **kw)
        return u, ACGDState(inner_state, nu, count)

    return optax.GradientTransformationExtraArgs(init, update)
