"""Extragradient, Extra-Adam, two-timescale EG and EG+."""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from minimax import validation
from minimax.updates.base import evaluate_at, require_field_fn, require_params, scalar_at, step_to


class ExtragradientState(NamedTuple):
    inner_state: optax.OptState
    count: jax.Array  # EG steps taken (for a scheduled β)


def extragradient(inner: optax.GradientTransformation, *, update_scale=1.0,
                  resample: bool = False) -> optax.GradientTransformationExtraArgs:
    """Extragradient (EG) around an inner transformation used for both half-steps.

        p̃_k     = P(p_k + inner(F(p_k)))                 (extrapolation)
        p_{k+1} = P(p_k + β · inner(F(p̃_k)))             (update, from p_k)

    P is the projection onto the game's constraint set (the identity without one; the
    run passes it, see :mod:`minimax.updates.base`). With inner = sgd(η), β = 1:
    p_{k+1} = p_k − η F(p_k − η F(p_k)) (Korpelevich). With inner = adam(η): Extra-Adam.
    With inner = timescaled(sgd(η), τ): two-timescale EG
    p_{k+1} = p_k − ηΛ_τ F(p_k − ηΛ_τ F(p_k)), Λ_τ = diag(I/τ, I). With β < 1
    (``update_scale``): EG+, an extrapolation step 1/β times larger than the update step.

    Inner state: the extrapolation advances the inner state and the update step
    continues from it, so a stateful inner transformation (Adam's moments, a
    schedule's count) is advanced twice per EG step, as in Extra-Adam. Both inner
    calls receive ``params = p_k`` (the point the step is taken from).

    Args:
      inner: any optax transformation.
      update_scale: β, a number (traceable) or an ``optax.Schedule`` of the EG step count;
        1 for EG, in (0, 1) for EG+.
      resample: evaluate F(p̃_k) on a fresh minibatch (``field_fn(p, draw=1)``) instead of
        the one F(p_k) used (stochastic EG with independent samples).

    Requires the keyword extra argument ``field_fn`` (p -> F(p)).

    Examples:
        >>> import optax
        >>> from minimax import games, spectral_radius, updates
        >>> game = games.dirac_gan("zero_infinity")
        >>> rule = updates.extragradient(optax.sgd(0.2))
        >>> round(float(spectral_radius(rule, game.field_fn(), game.equilibrium)), 4)
        0.9806

    References: Korpelevich, "The extragradient method for finding saddle points",
    1976; Gidel et al., "A variational inequality perspective on GANs", ICLR 2019;
    Diakonikolas, Daskalakis, Jordan, "Efficient methods for structured
    nonconvex-nonconcave min-max optimization", AISTATS 2021 (EG+); Chae, Kim, Kim,
    "Two-timescale extragradient for finding local minimax points", ICLR 2024.
    """
    validation.number("extragradient", "update_scale", update_scale, low=0, low_open=True, high=1, schedule=True)
    inner = optax.with_extra_args_support(inner)

    def init(params):
        return ExtragradientState(inner.init(params), jnp.zeros([], jnp.int32))

    def update(field, state, params=None, *, field_fn=None, projection=None, **extra):
        require_params(params, "extragradient", field)
        require_field_fn(field_fn, "extragradient")
        kw = dict(extra, field_fn=field_fn, projection=projection)
        u_half, inner_state = inner.update(field, state.inner_state, params, **kw)
        field_half = evaluate_at(field_fn, step_to(params, u_half, projection), 1, resample)
        u, inner_state = inner.update(field_half, inner_state, params, **kw)
        beta = scalar_at(update_scale, state.count)
        return optax.tree_utils.tree_scale(beta, u), ExtragradientState(inner_state, optax.safe_increment(state.count))

    return optax.GradientTransformationExtraArgs(init, update)
