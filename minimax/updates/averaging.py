"""Iterate averaging (uniform and exponential moving average)."""
from __future__ import annotations

from typing import NamedTuple, Optional

import jax
import jax.numpy as jnp
import optax

from minimax import validation
from minimax.updates.base import require_params, scalar_at, step_to


class AveragingState(NamedTuple):
    inner_state: optax.OptState
    average: optax.Params  # p̄_k
    count: jax.Array


def averaging(inner: optax.GradientTransformation, *, decay: Optional[float] = None) -> optax.GradientTransformationExtraArgs:
    """Runs ``inner`` unchanged and keeps an average p̄ of its iterates in the state.

        uniform (decay=None):  p̄_{k+1} = p̄_k + (p_{k+1} − p̄_k) / (k + 1)
        EMA (decay=β):         p̄_{k+1} = β p̄_k + (1 − β) p_{k+1}

    The iterates themselves are not changed; :func:`averaged_params` reads p̄ from
    the state, and :func:`minimax.train.run` evaluates metrics at p̄. ``decay`` is a
    number in [0, 1) (traceable) or an ``optax.Schedule`` of the step count k. Extra
    arguments (``field_fn``, ``projection``) are passed to ``inner``.

    References: Bruck, "On the weak convergence of an ergodic iteration...", 1977;
    Yazıcı et al., "The unusual effectiveness of averaging in GAN training", ICLR 2019.
    """
    if decay is not None:
        validation.number("averaging", "decay", decay, low=0, high=1, high_open=True, schedule=True)
    inner = optax.with_extra_args_support(inner)

    def init(params):
        return AveragingState(inner.init(params), params, jnp.zeros([], jnp.int32))

    def update(field, state, params=None, *, projection=None, **extra):
        require_params(params, "averaging", field)
        u, inner_state = inner.update(field, state.inner_state, params, projection=projection, **extra)
        new = step_to(params, u, projection)  # the iterate the run keeps
        count = optax.safe_increment(state.count)
        weight = 1.0 / count if decay is None else 1.0 - scalar_at(decay, state.count)
        average = jax.tree_util.tree_map(lambda a, p: a + weight * (p - a), state.average, new)
        return u, AveragingState(inner_state, average, count)

    return optax.GradientTransformationExtraArgs(init, update)


def averaged_params(state: optax.OptState, params: optax.Params) -> optax.Params:
    """The averaged iterate p̄ kept by :func:`averaging` anywhere in ``state``, else ``params``."""
    found = [s for s in jax.tree_util.tree_leaves(state, is_leaf=lambda x: isinstance(x, AveragingState))
             if isinstance(s, AveragingState)]
    return found[0].average if found else params
