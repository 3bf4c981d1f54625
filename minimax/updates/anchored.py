"""Anchored extragradient rules: EAG and FEG, with the O(1/k²) rate on ‖F(p_k)‖² for monotone games.

Both pull every half-step toward the starting point p_0 (the anchor, kept in the state) with
a weight β_k that vanishes like 1/k (Halpern's iteration), which makes the last iterate's field
norm decay as ‖F(p_k)‖² = O(‖p_0 − p*‖²/(η²k²)) on monotone Lipschitz games, where plain
extragradient has O(1/k).
"""
from __future__ import annotations

from typing import NamedTuple, Optional

import jax
import jax.numpy as jnp
import optax

from minimax.updates.base import require_field_fn, require_params, step_to

tree_map = jax.tree_util.tree_map


class AnchoredState(NamedTuple):
    inner_state: optax.OptState
    anchor: optax.Params  # p_0
    count: jax.Array      # k, steps taken


def _anchored(inner, name: str, offset: int, damped: bool, rho: Optional[object]):
    """p_{k+½} = P(b + c·inner(F(p_k))), p_{k+1} = b + inner(F(p_{k+½})), b = p_k + β(p_0 − p_k) − (1−β)2ρF(p_k).

    β = 1/(k + offset); c = 1 − β when ``damped`` (FEG), else 1 (EAG); no ρ term when ``rho`` is None.
    """
    inner = optax.with_extra_args_support(inner)

    def init(params):
        return AnchoredState(inner.init(params), params, jnp.zeros([], jnp.int32))

    def update(field, state, params=None, *, field_fn=None, projection=None, **extra):
        require_params(params, name, field)
        require_field_fn(field_fn, name)
        kw = dict(extra, field_fn=field_fn, projection=projection)
        beta = 1.0 / (state.count.astype(jnp.result_type(float)) + offset)
        pull = tree_map(lambda a, p: beta * (a - p), state.anchor, params)
        if rho is not None:
            pull = tree_map(lambda q, f: q - (1.0 - beta) * 2.0 * rho * f, pull, field)
        u, inner_state = inner.update(field, state.inner_state, params, **kw)
        c = 1.0 - beta if damped else 1.0
        half = step_to(params, tree_map(lambda q, v: q + c * v, pull, u), projection)
        u, inner_state = inner.update(field_fn(half), inner_state, params, **kw)
        return optax.tree_utils.tree_add(pull, u), AnchoredState(inner_state, state.anchor,
                                                                 optax.safe_increment(state.count))

    return optax.GradientTransformationExtraArgs(init, update)


def extra_anchored_gradient(inner: optax.GradientTransformation) -> optax.GradientTransformationExtraArgs:
    """Extra anchored gradient (EAG-C): extragradient whose both half-steps are pulled toward p_0.

        β_k = 1/(k + 2),
        p_{k+½} = P(p_k + β_k (p_0 − p_k) + inner(F(p_k))),
        p_{k+1} = P(p_k + β_k (p_0 − p_k) + inner(F(p_{k+½}))).

    With inner = sgd(α): p_{k+½} = p_k + β_k(p_0 − p_k) − αF(p_k), p_{k+1} = p_k + β_k(p_0 − p_k)
    − αF(p_{k+½}); for a monotone L-Lipschitz F and α <= 1/(8L), ‖F(p_k)‖² = O(‖p_0 − p*‖²/(α²k²)).
    The anchor p_0 is the point ``init`` was called with. The inner state is advanced by both
    half-steps (as in :func:`minimax.updates.extragradient`), and both inner calls receive
    ``params = p_k``.

    Requires the keyword extra argument ``field_fn``.

    Reference: Yoon, Ryu, "Accelerated algorithms for smooth convex-concave minimax problems
    with O(1/k²) rate on squared gradient norm", ICML 2021 (EAG-C).
    """
    return _anchored(inner, "extra_anchored_gradient", 2, False, None)


def fast_extragradient(inner: optax.GradientTransformation, *, rho=0.0) -> optax.GradientTransformationExtraArgs:
    """Fast extragradient (FEG): anchored two-time-scale extragradient for ρ-comonotone games.

        β_k = 1/(k + 1),
        p_{k+½} = P(p_k + β_k (p_0 − p_k) + (1 − β_k)(inner(F(p_k)) − 2ρ F(p_k))),
        p_{k+1} = P(p_k + β_k (p_0 − p_k) + inner(F(p_{k+½})) − (1 − β_k) 2ρ F(p_k)).

    With inner = sgd(α): p_{k+½} = p_k + β_k(p_0 − p_k) − (1 − β_k)(α + 2ρ)F(p_k),
    p_{k+1} = p_k + β_k(p_0 − p_k) − αF(p_{k+½}) − (1 − β_k)2ρF(p_k) (Lee & Kim, with
    α = 1/L): for an L-Lipschitz F with ⟨F(p) − F(q), p − q⟩ >= ρ‖F(p) − F(q)‖², ρ > −α/2
    (ρ = 0: monotone; ρ < 0: the structured nonconvex-nonconcave case),
    ‖F(p_k)‖² = O(‖p_0 − p*‖²/((α + 2ρ)²k²)). The first step (β_0 = 1) is p_1 = p_0 − αF(p_0).
    The anchor, inner state and ``params`` are handled as in :func:`extra_anchored_gradient`.

    Args:
      inner: the optax transformation of both half-steps (sgd(1/L) in the paper).
      rho: ρ, the comonotonicity parameter (a number, traceable; 0 for monotone games). The ρ
        terms use F itself, not the inner transformation.

    Requires the keyword extra argument ``field_fn``.

    Reference: Lee, Kim, "Fast extra gradient methods for smooth structured
    nonconvex-nonconcave minimax problems", NeurIPS 2021.
    """
    return _anchored(inner, "fast_extragradient", 1, True, rho)
