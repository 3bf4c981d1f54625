"""Local diagnostics at a point: the Jacobian of F and the linearized update map.

Near a fixed point p* (F(p*) = 0) an update rule is the map p_{k+1} = T(p_k) and
converges locally iff the spectral radius ρ(∂T(p*)) < 1. Here ∂T is obtained by
differentiating one step of the rule itself (forward mode), not from a formula, so
it holds for any composition of optax transformations. For rules with memory
(optimistic GDA keeps F(p_{k−1}), averaging keeps p̄) T acts on the pair
(parameters, floating-point optimizer state) and ∂T is that joint Jacobian.

Reference: Mescheder, Nowozin, Geiger, "The numerics of GANs", NeurIPS 2017;
Gidel et al., "Negative momentum for improved game dynamics", AISTATS 2019.
"""
from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree


def field_jacobian(field_fn: Callable, params) -> jax.Array:
    """∂F(p) as a dense (n, n) matrix over the flattened parameters."""
    flat, unravel = ravel_pytree(params)
    return jax.jacfwd(lambda x: ravel_pytree(field_fn(unravel(x)))[0])(flat)


def field_eigenvalues(field_fn: Callable, params) -> jax.Array:
    """Eigenvalues of ∂F(p) (complex)."""
    return jnp.linalg.eigvals(field_jacobian(field_fn, params))


def _is_float(x) -> bool:
    return jnp.issubdtype(jnp.result_type(x), jnp.inexact)


def update_map_jacobian(rule: optax.GradientTransformationExtraArgs, field_fn: Callable, params,
                        *, warmup_steps: int = 1) -> jax.Array:
    """∂T at ``params``, T being one step of ``rule`` on (params, float optimizer state).

    The optimizer state is first advanced ``warmup_steps`` times at ``params`` (so
    that first-step special cases such as OGDA's F_{−1} := F_0 are behind it);
    ``params`` should be a fixed point, where these warm-up steps leave it unchanged.
    """
    state = rule.init(params)
    for _ in range(warmup_steps):
        updates, state = rule.update(field_fn(params), state, params, field_fn=field_fn)
        params = optax.apply_updates(params, updates)

    leaves, treedef = jax.tree_util.tree_flatten((params, state))
    is_float = [_is_float(leaf) for leaf in leaves]
    x0, unravel = ravel_pytree([leaf for leaf, f in zip(leaves, is_float) if f])

    def step(x):
        floats = iter(unravel(x))
        p, s = jax.tree_util.tree_unflatten(treedef, [next(floats) if f else leaf for leaf, f in zip(leaves, is_float)])
        updates, s = rule.update(field_fn(p), s, p, field_fn=field_fn)
        out = jax.tree_util.tree_leaves((optax.apply_updates(p, updates), s))
        return ravel_pytree([leaf for leaf in out if _is_float(leaf)])[0]

    return jax.jacfwd(step)(x0)


def spectral_radius(rule: optax.GradientTransformationExtraArgs, field_fn: Callable, params,
                    *, warmup_steps: int = 1) -> jax.Array:
    """ρ(∂T(p)) = max |eig|, the local contraction factor of ``rule`` at a fixed point."""
    return jnp.max(jnp.abs(jnp.linalg.eigvals(update_map_jacobian(rule, field_fn, params, warmup_steps=warmup_steps))))
