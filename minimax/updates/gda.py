"""Gradient descent–ascent: simultaneous and alternating."""
from __future__ import annotations

from typing import NamedTuple

import jax
import optax
from jax import lax

from minimax.game import Players
from minimax.updates.base import require_field_fn, require_params

_zeros = optax.tree_utils.tree_zeros_like


def simultaneous(inner: optax.GradientTransformation) -> optax.GradientTransformationExtraArgs:
    """Simultaneous gradient descent–ascent (GDA).

        p_{k+1} = p_k + inner(F(p_k)),   with inner = sgd(η):  p_{k+1} = p_k − η F(p_k).

    Both players move at once from the same point. ``inner`` is any optax
    transformation (``optax.sgd(η)``, ``optax.adam(η)``, a chain with
    :func:`minimax.updates.two_timescale` for τ-GDA). Extra arguments such as
    ``field_fn`` are accepted and ignored.

    Reference: Arrow, Hurwicz, Uzawa, "Studies in linear and non-linear programming", 1958.
    """
    return optax.with_extra_args_support(inner)


class AlternatingState(NamedTuple):
    """Separate inner states for the max-player and the min-player half-steps."""

    max_state: optax.OptState
    min_state: optax.OptState


def alternating(inner: optax.GradientTransformation, max_steps=1) -> optax.GradientTransformationExtraArgs:
    """Alternating GDA with M max-player steps per min-player step.

        w_0 = w_k,   w_{m+1} = w_m + inner_w(F_w(θ_k, w_m)),  m = 0..M−1
        θ_{k+1} = θ_k + inner_θ(F_θ(θ_k, w_M)),   w_{k+1} = w_M

    With inner = sgd(η) and M = 1: w⁺ = w − η F_w(θ, w), θ⁺ = θ − η F_θ(θ, w⁺).
    The field passed to ``update`` is F(p_k) (used by the first max step); the
    other evaluations call the keyword argument ``field_fn``. The max-player and
    the min-player steps keep separate inner states (two optimizers, as in GAN
    training); each sees the whole :class:`Players` tree with the other player's
    field set to zero, so player-aware transformations such as two-timescale
    scaling and projections compose unchanged.

    Args:
      inner: the transformation applied at every half-step.
      max_steps: M >= 1, traceable (a traced M runs as a while loop; use
        forward-mode differentiation through it).

    Reference: Goodfellow et al., "Generative adversarial nets", NeurIPS 2014 (k critic
    steps per generator step); Gidel et al., "Negative momentum for improved game
    dynamics", AISTATS 2019 (alternating updates).
    """
    if not isinstance(max_steps, jax.core.Tracer) and (int(max_steps) != max_steps or max_steps < 1):
        raise ValueError(f"alternating: `max_steps` must be an integer >= 1, got {max_steps!r}")
    inner = optax.with_extra_args_support(inner)

    def init(params):
        return AlternatingState(inner.init(params), inner.init(params))

    def update(field, state, params=None, *, field_fn=None, **extra):
        require_params(params, "alternating")
        require_field_fn(field_fn, "alternating")

        def max_step(p, f, s):
            u, s = inner.update(Players(_zeros(f.min), f.max), s, p, **extra)
            return Players(p.min, optax.apply_updates(p.max, u.max)), s

        p, s_max = max_step(params, field, state.max_state)
        p, s_max = lax.fori_loop(1, max_steps, lambda _, c: max_step(c[0], field_fn(c[0]), c[1]), (p, s_max))
        f = field_fn(p)
        u, s_min = inner.update(Players(f.min, _zeros(f.max)), state.min_state, p, **extra)
        new = Players(optax.apply_updates(p.min, u.min), p.max)
        return optax.tree_utils.tree_sub(new, params), AlternatingState(s_max, s_min)

    return optax.GradientTransformationExtraArgs(init, update)
