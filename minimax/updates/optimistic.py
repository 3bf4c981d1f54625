"""Optimistic GDA / extrapolation from the past: one field evaluation per step."""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax


class OptimismState(NamedTuple):
    previous: optax.Updates  # F(p_{k−1})
    count: jax.Array


def scale_by_optimism(alpha=1.0) -> optax.GradientTransformation:
    """u_k = F_k + α (F_k − F_{k−1}), with F_{−1} := F_0 (plain step first). α traceable."""

    def init(params):
        return OptimismState(optax.tree_utils.tree_zeros_like(params), jnp.zeros([], jnp.int32))

    def update(field, state, params=None):
        previous = jax.tree_util.tree_map(lambda f, g: jnp.where(state.count == 0, f, g), field, state.previous)
        u = jax.tree_util.tree_map(lambda f, g: f + alpha * (f - g), field, previous)
        return u, OptimismState(field, optax.safe_increment(state.count))

    return optax.GradientTransformation(init, update)


def optimistic(inner: optax.GradientTransformation, *, alpha=1.0) -> optax.GradientTransformationExtraArgs:
    """Optimistic gradient descent–ascent (OGDA).

        p_{k+1} = p_k + inner(F(p_k) + α (F(p_k) − F(p_{k−1}))),
        with inner = sgd(η), α = 1:   p_{k+1} = p_k − 2η F(p_k) + η F(p_{k−1}).

    One field evaluation per step: the previous field is kept in the state. For
    unconstrained sgd this is exactly extrapolation from the past
    (p̃_k = p_k − η F(p̃_{k−1}), p_{k+1} = p_k − η F(p̃_k)) written in the
    extrapolated iterates p̃ (Gidel et al. 2019, §B); with Adam it is Optimistic Adam.

    References: Popov, "A modification of the Arrow–Hurwicz method for search of
    saddle points", 1980; Daskalakis, Ilyas, Syrgkanis, Zeng, "Training GANs with
    optimism", ICLR 2018; Gidel et al., "A variational inequality perspective on
    GANs", ICLR 2019.
    """
    return optax.chain(scale_by_optimism(alpha), inner)
