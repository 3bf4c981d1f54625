"""Projection onto a constraint set, as a composable optax step."""
from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from minimax.game import Players
from minimax.updates.base import check_positive, require_params


def project(projection: Callable) -> optax.GradientTransformationExtraArgs:
    """Projected step: u ↦ P(p + u) − p, so that p + u lies in the constraint set.

    Put it last in a rule's inner transformation: ``extragradient(optax.chain(
    optax.sgd(η), project(P)))`` projects both the extrapolated point and the update
    (projected extragradient). ``projection`` maps a params tree to its Euclidean
    projection (:func:`box`, :func:`ball`, :func:`on_max_player`, or your own).

    Reference: Arjovsky, Chintala, Bottou, "Wasserstein GAN", ICML 2017 (weight clipping
    is projection onto a box).
    """
    if not callable(projection):
        raise TypeError(f"project: `projection` must be callable, got {type(projection).__name__}")

    def update(updates, state, params=None, **extra):
        require_params(params, "project")
        return optax.tree_utils.tree_sub(projection(optax.apply_updates(params, updates)), params), state

    return optax.GradientTransformationExtraArgs(lambda params: optax.EmptyState(), update)


def box(lower, upper) -> Callable:
    """P(x) = clip(x, lower, upper), element-wise (weight clipping |w| <= c: box(−c, c))."""
    if not isinstance(lower, jax.core.Tracer) and not isinstance(upper, jax.core.Tracer):
        if not np.all(np.asarray(lower) <= np.asarray(upper)):
            raise ValueError(f"box: need `lower` <= `upper`, got lower={lower!r}, upper={upper!r}")
    return lambda tree: jax.tree_util.tree_map(lambda x: jnp.clip(x, lower, upper), tree)


def ball(radius) -> Callable:
    """P(x) = x · min(1, r / ‖x‖₂), the Euclidean ball of the whole tree."""
    check_positive("radius", radius)

    def proj(tree):
        norm = optax.tree_utils.tree_norm(tree)
        factor = jnp.minimum(1.0, radius / jnp.maximum(norm, jnp.finfo(jnp.float32).tiny))
        return optax.tree_utils.tree_scale(factor, tree)

    return proj


def on_max_player(projection: Callable) -> Callable:
    """Applies ``projection`` to the max player (critic) of a :class:`Players` tree only."""
    return lambda p: Players(p.min, projection(p.max))


def on_min_player(projection: Callable) -> Callable:
    """Applies ``projection`` to the min player (generator) of a :class:`Players` tree only."""
    return lambda p: Players(projection(p.min), p.max)
