"""Optimistic GDA / Optimistic Adam: one field evaluation per step."""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax


class OptimismState(NamedTuple):
    previous: optax.Updates  # u_{k−1}, the previous input of this transformation
    count: jax.Array


def scale_by_optimism(alpha=1.0) -> optax.GradientTransformation:
    """u_k ↦ u_k + α (u_k − u_{k−1}), with u_{−1} := u_0 (a plain first step). α traceable."""

    def init(params):
        return OptimismState(optax.tree_utils.tree_zeros_like(params), jnp.zeros([], jnp.int32))

    def update(updates, state, params=None):
        previous = jax.tree_util.tree_map(lambda u, v: jnp.where(state.count == 0, u, v), updates, state.previous)
        out = jax.tree_util.tree_map(lambda u, v: u + alpha * (u - v), updates, previous)
        return out, OptimismState(updates, optax.safe_increment(state.count))

    return optax.GradientTransformation(init, update)


def optimistic(inner: optax.GradientTransformation, *, alpha=1.0) -> optax.GradientTransformationExtraArgs:
    """Optimistic gradient descent–ascent (OGDA), optimism applied to ``inner``'s output.

        a_k = inner(F(p_k)),   p_{k+1} = p_k + a_k + α (a_k − a_{k−1}),   a_{−1} := a_0.

    With inner = sgd(η), α = 1: p_{k+1} = p_k − 2η F(p_k) + η F(p_{k−1}), which for
    unconstrained steps is extrapolation from the past (p̃_k = p_k − η F(p̃_{k−1}),
    p_{k+1} = p_k − η F(p̃_k)) written in the extrapolated iterates (Gidel et al. 2019, §B).
    With inner = adam(η): Optimistic Adam, θ_{k+1} = θ_k − 2η â_k + η â_{k−1} with â_k
    Adam's normalized step (Daskalakis et al. 2018, Algorithm 1; ``optax.optimistic_adam``
    agrees after its first step). Optimism goes *after* the optimizer: before Adam, Adam's
    per-coordinate normalization would reshape 2F_k − F_{k−1} instead.

    References: Popov, "A modification of the Arrow–Hurwicz method for search of
    saddle points", 1980; Daskalakis, Ilyas, Syrgkanis, Zeng, "Training GANs with
    optimism", ICLR 2018; Gidel et al., "A variational inequality perspective on
    GANs", ICLR 2019.
    """
    return optax.with_extra_args_support(optax.chain(inner, scale_by_optimism(alpha)))
