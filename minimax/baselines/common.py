"""Pieces the minimization baselines share: argument checks, a time-conditioned MLP, the players.

Every baseline is a single-player :class:`minimax.Game` (the max player is the empty tuple
``()``) whose ``args`` hold the training data as a :func:`minimax.data.minibatches` sampler, a
pytree with the data as its leaf: a minibatch of ``batch_size`` rows drawn without replacement
every step (the full set, shuffled, when ``batch_size`` is the number of rows).
"""
from __future__ import annotations

from typing import Sequence, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from minimax.data import Minibatches, minibatches
from minimax.game import Players
from minimax.models import MLPGenerator


def check_positive_int(value, name: str, fn: str, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``; a ValueError naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{fn}: `{name}` must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_positive_float(value, name: str, fn: str) -> float:
    """``value`` as a finite float > 0; a ValueError naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not (np.isfinite(value) and value > 0):
        raise ValueError(f"{fn}: `{name}` must be a finite number > 0, got {value!r}")
    return float(value)


def check_choice(value, name: str, fn: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValueError(f"{fn}: `{name}` must be one of {tuple(choices)}, got {value!r}")
    return value


def check_widths(widths, fn: str) -> Tuple[int, ...]:
    """Hidden-layer widths as a tuple of positive ints (hashable, so the model stays a static value)."""
    if isinstance(widths, (int, np.integer)) or not all(isinstance(w, (int, np.integer)) and w >= 1 for w in widths):
        raise ValueError(f"{fn}: `widths` must be a sequence of positive integers, got {widths!r}")
    return tuple(int(w) for w in widths)


def data_batches(data, batch_size: int, dim: int, fn: str, name: str = "data") -> Minibatches:
    """``data`` (n, dim) as a minibatch sampler of ``batch_size`` rows (a game leaf); non-finite
    values are rejected when ``data`` is concrete."""
    data = jnp.asarray(data, jnp.float32)
    if data.ndim != 2 or data.shape[1] != dim:
        raise ValueError(f"{fn}: `{name}` must be an array of shape (n, {dim}) (flattened samples), "
                         f"got shape {data.shape}")
    if not isinstance(data, jax.core.Tracer) and not bool(jnp.all(jnp.isfinite(data))):
        raise ValueError(f"{fn}: `{name}` has non-finite values (NaN or inf)")
    check_positive_int(batch_size, "batch_size", fn)
    if batch_size > data.shape[0]:
        raise ValueError(f"{fn}: `batch_size` must be <= the {data.shape[0]} rows of `{name}`, got {batch_size}")
    return minibatches(data, batch_size)


def fourier_features(t, frequencies: int) -> jax.Array:
    """(t, sin(2^k π t), cos(2^k π t)) for k < ``frequencies``: t (n,) -> (n, 1 + 2·frequencies)."""
    scales = jnp.pi * 2.0 ** jnp.arange(frequencies, dtype=t.dtype)
    return jnp.concatenate([t[:, None], jnp.sin(t[:, None] * scales), jnp.cos(t[:, None] * scales)], axis=-1)


class ConditionedMLP(nn.Module):
    """v(x, t) = MLP(x, φ(t)) + g(t) ⊙ x, (n, d), (n,) -> (n, d).

    MLP is an :class:`minimax.models.MLPGenerator` on x and the Fourier features φ(t); g(t) =
    Dense(d)(φ(t)) is a time-dependent diagonal linear skip, so x passes through even when the
    hidden layers are narrower than d (a ReLU MLP of width 256 cannot represent the identity of
    784 pixels, and a velocity field must cancel its input noise, v ≈ E[x₁] − x at t = 0). ``t`` in
    [0, 1] (a scalar is broadcast over the batch): the time of a flow, or a noise level mapped to
    [0, 1] for a score network.
    """

    data_dim: int
    widths: Sequence[int] = (128, 128)
    frequencies: int = 4

    @nn.compact
    def __call__(self, x, t):
        t = jnp.broadcast_to(jnp.asarray(t, x.dtype), x.shape[:1])
        features = fourier_features(t, self.frequencies)
        h = jnp.concatenate([x, features], axis=-1)
        skip = nn.Dense(self.data_dim, kernel_init=nn.initializers.zeros)(features)
        return MLPGenerator(data_shape=(self.data_dim,), widths=tuple(self.widths))(h) + skip * x


def single_player(params) -> Players:
    """The players of a minimization problem: ``Players(params, ())``."""
    return Players(params, ())
