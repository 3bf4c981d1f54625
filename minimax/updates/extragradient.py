"""Extragradient, Extra-Adam, two-timescale EG and EG+."""
from __future__ import annotations

import optax

from minimax.updates.base import require_field_fn, require_params


def extragradient(inner: optax.GradientTransformation, *, update_scale=1.0) -> optax.GradientTransformationExtraArgs:
    """Extragradient (EG) around an inner transformation used for both half-steps.

        p̃_k     = p_k + inner(F(p_k))                 (extrapolation)
        p_{k+1} = p_k + β · inner(F(p̃_k))             (update, from p_k)

    With inner = sgd(η), β = 1: p_{k+1} = p_k − η F(p_k − η F(p_k)) (Korpelevich).
    With inner = adam(η): Extra-Adam. With inner = chain(two_timescale(τ), sgd(η)):
    two-timescale EG p_{k+1} = p_k − ηΛ_τ F(p_k − ηΛ_τ F(p_k)), Λ_τ = diag(I/τ, I).
    With β < 1 (``update_scale``): EG+, an extrapolation step 1/β times larger than
    the update step.

    Inner state: the extrapolation advances the inner state and the update step
    continues from it, so a stateful inner transformation (Adam's moments, a
    schedule's count) is advanced twice per EG step, as in Extra-Adam. Both inner
    calls receive ``params = p_k`` (the point the step is taken from), so a
    projection inside ``inner`` projects both p̃_k and p_{k+1}.

    Args:
      inner: any optax transformation.
      update_scale: β, traceable; 1 for EG, in (0, 1) for EG+.

    Requires the keyword extra argument ``field_fn`` (p -> F(p)).

    References: Korpelevich, "The extragradient method for finding saddle points",
    1976; Gidel et al., "A variational inequality perspective on GANs", ICLR 2019;
    Diakonikolas, Daskalakis, Jordan, "Efficient methods for structured
    nonconvex-nonconcave min-max optimization", AISTATS 2021 (EG+); Chae, Kim, Kim,
    "Two-timescale extragradient for finding local minimax points", ICLR 2024.
    """
    inner = optax.with_extra_args_support(inner)

    def update(field, state, params=None, *, field_fn=None, **extra):
        require_params(params, "extragradient")
        require_field_fn(field_fn, "extragradient")
        u_half, state = inner.update(field, state, params, field_fn=field_fn, **extra)
        field_half = field_fn(optax.apply_updates(params, u_half))
        u, state = inner.update(field_half, state, params, field_fn=field_fn, **extra)
        return optax.tree_utils.tree_scale(update_scale, u), state

    return optax.GradientTransformationExtraArgs(inner.init, update)
