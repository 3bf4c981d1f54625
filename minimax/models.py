"""Small default generators and critics (flax linen), and an adapter for flax nnx modules.

A model is anything mapping ``(params, input) -> output``: a plain function, a linen
module's ``apply``, or an nnx module split by :func:`nnx_model`. The GAN game builder
(:func:`minimax.games.gan_game`) takes any of them.

Defaults (all without normalization layers or mutable state, so ``apply`` is a pure
function of the parameters and any update rule can be used):

==================  =====================================================================
model               architecture
==================  =====================================================================
MLPGenerator        z → [Dense(w) → ReLU] for w in widths (128, 128) → Dense(∏ data_shape)
                    → out_activation (default identity) → reshape to ``(batch, *data_shape)``
MLPCritic           x (flattened) → [Dense(w) → LeakyReLU(0.2)] for w in widths (128, 128)
                    → Dense(1) squeezed to (batch,), or Dense(features) → (batch, features)
ConvGenerator       z → Dense(H/4·W/4·2c) → ReLU → ConvT(c, 4×4, stride 2) → ReLU
                    → ConvT(channels, 4×4, stride 2) → out_activation (default tanh),
                    images (batch, H, W, channels), H and W divisible by 4 (28×28, 32×32)
ConvCritic          Conv(c, 4×4, s2) → LeakyReLU → Conv(2c, 4×4, s2) → LeakyReLU → flatten
                    → Dense(1) (or Dense(features)); c = ``features_base`` = 64
==================  =====================================================================

Reference: Radford, Metz, Chintala, "Unsupervised representation learning with deep
convolutional generative adversarial networks" (DCGAN), ICLR 2016.
"""
from __future__ import annotations

import math
from typing import Callable, Optional, Sequence, Tuple, Union

import flax.linen as nn
import jax
import jax.numpy as jnp

Activation = Union[str, Callable, None]

#: Output activations by name (``None`` is the identity).
ACTIVATIONS = {
    "identity": lambda x: x,
    "tanh": jnp.tanh,
    "sigmoid": jax.nn.sigmoid,
    "relu": jax.nn.relu,
    "leaky_relu": lambda x: jax.nn.leaky_relu(x, 0.2),
}


def activation(act: Activation) -> Callable:
    """The activation named ``act`` (see :data:`ACTIVATIONS`), ``act`` itself if callable, identity for None."""
    if act is None:
        return ACTIVATIONS["identity"]
    if callable(act):
        return act
    if act not in ACTIVATIONS:
        raise ValueError(f"unknown activation {act!r}; expected a callable or one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[act]


def _critic_head(h, features: Optional[int]):
    out = nn.Dense(1 if features is None else features)(h)
    return out[..., 0] if features is None else out


class MLPGenerator(nn.Module):
    """MLP generator z (batch, latent_dim) → samples ``(batch, *data_shape)``."""

    data_shape: Tuple[int, ...] = (2,)
    widths: Sequence[int] = (128, 128)
    out_activation: Activation = None

    @nn.compact
    def __call__(self, z):
        h = z
        for w in self.widths:
            h = nn.relu(nn.Dense(w)(h))
        out = activation(self.out_activation)(nn.Dense(math.prod(self.data_shape))(h))
        return out.reshape(z.shape[:-1] + tuple(self.data_shape))


class MLPCritic(nn.Module):
    """MLP critic x (batch, ...) → scores (batch,), or features (batch, features) when set."""

    widths: Sequence[int] = (128, 128)
    features: Optional[int] = None

    @nn.compact
    def __call__(self, x):
        h = x.reshape(x.shape[0], -1)
        for w in self.widths:
            h = nn.leaky_relu(nn.Dense(w)(h), 0.2)
        return _critic_head(h, self.features)


class ConvGenerator(nn.Module):
    """DCGAN-style generator z (batch, latent_dim) → images (batch, H, W, C), H, W divisible by 4."""

    image_shape: Tuple[int, int, int] = (28, 28, 1)
    features_base: int = 64
    out_activation: Activation = "tanh"

    @nn.compact
    def __call__(self, z):
        height, width, channels = self.image_shape
        if height % 4 or width % 4:
            raise ValueError(f"ConvGenerator: image height and width must be divisible by 4, got {self.image_shape}")
        c = self.features_base
        h = nn.relu(nn.Dense((height // 4) * (width // 4) * 2 * c)(z))
        h = h.reshape(z.shape[0], height // 4, width // 4, 2 * c)
        h = nn.relu(nn.ConvTranspose(c, (4, 4), strides=(2, 2), padding="SAME")(h))
        h = nn.ConvTranspose(channels, (4, 4), strides=(2, 2), padding="SAME")(h)
        return activation(self.out_activation)(h)


class ConvCritic(nn.Module):
    """DCGAN-style critic images (batch, H, W, C) → scores (batch,) (or (batch, features))."""

    features_base: int = 64
    features: Optional[int] = None

    @nn.compact
    def __call__(self, x):
        if x.ndim != 4:
            raise ValueError(f"ConvCritic: expected images (batch, H, W, C), got shape {x.shape}")
        c = self.features_base
        h = nn.leaky_relu(nn.Conv(c, (4, 4), strides=(2, 2), padding="SAME")(x), 0.2)
        h = nn.leaky_relu(nn.Conv(2 * c, (4, 4), strides=(2, 2), padding="SAME")(h), 0.2)
        return _critic_head(h.reshape(x.shape[0], -1), self.features)


def nnx_model(module) -> Tuple[Callable, object]:
    """Splits a flax nnx module into ``(apply, params)`` with ``apply(params, x) = module(x)``.

    ``params`` is the module's ``nnx.Param`` state (a pytree); the graph definition and the
    other state (batch statistics, RNG counters) are fixed in ``apply``, which rebuilds the
    module from fresh copies of that state at each call, so it runs under ``jit``, ``grad``
    and ``vmap`` (a module's own updates of that state are discarded). BatchNorm therefore
    normalizes with the statistics of each batch in training mode, and Dropout draws the same
    mask at every call (its RNG counter is part of the fixed state); call ``module.eval()``
    before splitting for inference behaviour.
    """
    from flax import nnx
    if not isinstance(module, nnx.Module):
        raise TypeError(f"nnx_model: expected a flax nnx Module, got {type(module).__name__}")
    graphdef, params, rest = nnx.split(module, nnx.Param, ...)

    def apply(p, x):
        return nnx.merge(graphdef, p, jax.tree_util.tree_map(jnp.copy, rest))(x)

    return apply, params
