"""A small convolutional MNIST classifier and its penultimate-layer embedding.

:class:`MNISTClassifier` (flax linen, no normalization layers or mutable state)::

    x (n, 28, 28, 1) → Conv(16, 3×3) → ReLU → max-pool 2×2 → Conv(32, 3×3) → ReLU → max-pool 2×2
      → flatten (1568) → Dense(64) → ReLU  [the embedding]  → Dense(10)  [logits]

The shipped weights (``mnist_cnn.msgpack``, flax msgpack) are trained by
:mod:`minimax.features.train` on the first :data:`NUM_TRAIN` images of the MNIST test split
and evaluated on the remaining :data:`NUM_HELD_OUT`; their sha256 is :data:`WEIGHTS_SHA256`,
checked on every load. :func:`mnist_features` is the embedding that the evaluation metrics
(:mod:`minimax.metrics`, ``features="mnist"``) compare samples in, the MNIST counterpart of
the Inception pool features of FID/KID.
"""
from __future__ import annotations

import functools
import hashlib
import os
from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
from flax import serialization

#: The shipped weights and their sha256 (see README.md in this folder for how they were made).
WEIGHTS_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mnist_cnn.msgpack")
WEIGHTS_SHA256 = "643c5a4243d1afbab515abca0ec93d5ac8bed12ff8c5015b01813d9498427a5c"

#: Training images: the first NUM_TRAIN of the MNIST test split; the next NUM_HELD_OUT are held out.
NUM_TRAIN = 8000
NUM_HELD_OUT = 2000

#: Dimension of the embedding (the classifier's penultimate layer).
EMBED_DIM = 64


def as_images(x) -> jax.Array:
    """Pixels in [0, 1] of shape (n, 784), (n, 28, 28) or (n, 28, 28, 1) as float32 (n, 28, 28, 1)."""
    x = jnp.asarray(x)
    if x.ndim < 2 or x.shape[1:] not in ((784,), (28, 28), (28, 28, 1)):
        raise ValueError(f"MNIST features: expected images of shape (n, 784), (n, 28, 28) or (n, 28, 28, 1) "
                         f"with pixels in [0, 1], got shape {x.shape}")
    return x.reshape(x.shape[0], 28, 28, 1).astype(jnp.float32)


class MNISTClassifier(nn.Module):
    """Two conv layers and a dense embedding layer; logits (n, 10), or the embedding (n, embed_dim) via ``embed``."""

    embed_dim: int = EMBED_DIM

    def setup(self):
        self.conv1 = nn.Conv(16, (3, 3), padding="SAME")
        self.conv2 = nn.Conv(32, (3, 3), padding="SAME")
        self.dense = nn.Dense(self.embed_dim)
        self.head = nn.Dense(10)

    def embed(self, x):
        h = as_images(x)
        h = nn.max_pool(nn.relu(self.conv1(h)), (2, 2), strides=(2, 2))
        h = nn.max_pool(nn.relu(self.conv2(h)), (2, 2), strides=(2, 2))
        return nn.relu(self.dense(h.reshape(h.shape[0], -1)))

    def __call__(self, x):
        return self.head(self.embed(x))


def sha256_of(path: str) -> str:
    """Hex sha256 of the file at ``path``."""
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def load_params(path: str = WEIGHTS_PATH, sha256: str = WEIGHTS_SHA256):
    """The classifier's variables ``{"params": ...}`` from a flax msgpack file whose sha256 must be ``sha256``.

    Raises ``ValueError`` naming the file when the checksum does not match (a corrupted or
    retrained file): regenerate it with ``python -m minimax.features.train`` (README.md here).
    """
    with open(path, "rb") as f:
        raw = f.read()
    found = hashlib.sha256(raw).hexdigest()
    if found != sha256:
        raise ValueError(f"MNIST classifier weights {path}: sha256 is {found}, expected {sha256}; the file is "
                         f"corrupted or was not made by `python -m minimax.features.train` (see "
                         f"minimax/features/README.md)")
    return serialization.msgpack_restore(raw)


@functools.lru_cache(maxsize=None)
def mnist_features() -> Callable[[jax.Array], jax.Array]:
    """The jitted embedding ``x (n, 784 | 28×28 | 28×28×1), pixels in [0, 1] -> (n, 64)`` of the shipped classifier.

    The penultimate-layer activations (after ReLU) of :class:`MNISTClassifier` with the
    shipped, checksum-verified weights. The same function object is returned on every call,
    so it can be a static argument of ``jax.jit`` without recompiling.
    """
    params = load_params()
    model = MNISTClassifier()
    return jax.jit(lambda x: model.apply(params, x, method=MNISTClassifier.embed))
