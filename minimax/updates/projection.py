"""Projection onto a constraint set, as a composable optax step, and common sets (optax.projections).

The sets are small frozen dataclasses (equal when their parameters are), so a game holding
one as its static projection compiles once however many times it is rebuilt.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

import jax
import numpy as np
import optax
from optax import projections

from minimax.game import Players
from minimax.updates.base import check_positive, require_params


def project(projection: Callable) -> optax.GradientTransformationExtraArgs:
    """Projected step: u ↦ P(p + u) − p, so that p + u lies in the constraint set.

    :func:`minimax.train.run` already enforces a game's own projection at every half-step;
    use this for an extra constraint of your own, last in a rule's inner transformation:
    ``extragradient(optax.chain(optax.sgd(η), project(P)))`` projects both the extrapolated
    point and the update (projected extragradient). ``projection`` maps a params tree to
    its Euclidean projection (:func:`box`, :func:`ball`, :func:`on_max_player`, or your own).

    Reference: Arjovsky, Chintala, Bottou, "Wasserstein GAN", ICML 2017 (weight clipping
    is projection onto a box).
    """
    if not callable(projection):
        raise TypeError(f"project: `projection` must be callable, got {type(projection).__name__}")

    def update(updates, state, params=None, **extra):
        require_params(params, "project")
        return optax.tree_utils.tree_sub(projection(optax.apply_updates(params, updates)), params), state

    return optax.GradientTransformationExtraArgs(lambda params: optax.EmptyState(), update)


@dataclasses.dataclass(frozen=True)
class Box:
    """P(x) = clip(x, lower, upper) on every leaf (``optax.projections.projection_box``)."""

    lower: Any
    upper: Any

    def __call__(self, tree):
        return jax.tree_util.tree_map(lambda x: projections.projection_box(x, self.lower, self.upper), tree)


def box(lower, upper) -> Box:
    """P(x) = clip(x, lower, upper), element-wise (weight clipping |w| <= c: box(−c, c))."""
    if not isinstance(lower, jax.core.Tracer) and not isinstance(upper, jax.core.Tracer):
        if not np.all(np.asarray(lower) <= np.asarray(upper)):
            raise ValueError(f"box: need `lower` <= `upper`, got lower={lower!r}, upper={upper!r}")
    return Box(lower, upper)


@dataclasses.dataclass(frozen=True)
class Ball:
    """P(x) = x · min(1, r / ‖x‖₂) on the whole tree (``optax.projections.projection_l2_ball``)."""

    radius: Any

    def __call__(self, tree):
        return projections.projection_l2_ball(tree, self.radius)


def ball(radius) -> Ball:
    """The Euclidean ball of radius r of the whole tree."""
    check_positive("radius", radius)
    return Ball(radius)


@dataclasses.dataclass(frozen=True)
class OnPlayer:
    """Applies ``projection`` to one player (``"min"`` or ``"max"``) of a :class:`Players` tree."""

    projection: Callable
    player: str

    def __call__(self, p):
        if self.player == "max":
            return Players(p.min, self.projection(p.max))
        return Players(self.projection(p.min), p.max)


def on_max_player(projection: Callable) -> OnPlayer:
    """Applies ``projection`` to the max player (critic) of a :class:`Players` tree only."""
    return OnPlayer(projection, "max")


def on_min_player(projection: Callable) -> OnPlayer:
    """Applies ``projection`` to the min player (generator) of a :class:`Players` tree only."""
    return OnPlayer(projection, "min")
