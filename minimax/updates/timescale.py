"""Player-wise step-size scaling: two-timescale rules."""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from minimax.game import Players
from minimax.updates.base import check_positive, scalar_at


class ScalePlayersState(NamedTuple):
    count: jax.Array  # calls so far (for scheduled scales)


def scale_players(min_scale=1.0, max_scale=1.0) -> optax.GradientTransformation:
    """u ↦ (min_scale · u_θ, max_scale · u_w) on a :class:`Players` tree.

    Each scale is a number (traceable) or an ``optax.Schedule`` of this transformation's call count.
    """
    check_positive("min_scale", min_scale)
    check_positive("max_scale", max_scale)

    def update(updates, state, params=None):
        if not isinstance(updates, Players):
            raise TypeError(f"scale_players: updates must be a minimax.Players, got {type(updates).__name__}")
        scale = optax.tree_utils.tree_scale
        a, b = scalar_at(min_scale, state.count), scalar_at(max_scale, state.count)
        return Players(scale(a, updates.min), scale(b, updates.max)), ScalePlayersState(optax.safe_increment(state.count))

    return optax.GradientTransformation(lambda params: ScalePlayersState(jnp.zeros([], jnp.int32)), update)


def two_timescale(tau) -> optax.GradientTransformation:
    """Λ_τ = diag(I/τ, I): τ > 1 slows the min player relative to the max player.

    Put it in the inner transformation of any rule, *after* the optimizer:
    ``extragradient(optax.chain(optax.sgd(η), two_timescale(τ)))`` is two-timescale EG
    p_{k+1} = p_k − ηΛ_τ F(p_k − ηΛ_τ F(p_k)); ``optax.chain(optax.sgd(η), two_timescale(τ))``
    alone is τ-GDA (see :func:`timescaled`). For SGD the order does not matter; Adam and other
    per-coordinate normalizing optimizers undo a scaling applied before them, so τ must come
    after. ``tau`` is a number (traceable) or an ``optax.Schedule`` of the call count (an EG
    step calls its inner transformation twice).

    References: Heusel et al., "GANs trained by a two time-scale update rule", NeurIPS
    2017; Jin, Netrapalli, Jordan, "What is local optimality in nonconvex-nonconcave
    minimax optimization?", ICML 2020; Chae, Kim, Kim, ICLR 2024.
    """
    check_positive("tau", tau)
    return scale_players((lambda count: 1.0 / tau(count)) if callable(tau) else 1.0 / tau, 1.0)


def timescaled(optimizer: optax.GradientTransformation, tau=1.0, projection=None) -> optax.GradientTransformation:
    """The inner transformation optimizer → Λ_τ → projection (when given), for any rule.

    ``extragradient(timescaled(optax.sgd(η), τ))`` is two-timescale EG;
    ``timescaled(optax.adam(η), τ)`` is two-timescale Adam. A game's own projection is
    applied by :func:`minimax.train.run`; pass ``projection`` only for an extra constraint.
    """
    from minimax.updates.projection import project
    parts = [optimizer, two_timescale(tau)]
    if projection is not None:
        parts.append(project(projection))
    return optax.chain(*parts)
