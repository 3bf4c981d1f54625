"""Data: an MNIST (IDX) loader, the shipped MNIST subset, 2-D Gaussian mixtures.

* :func:`load_mnist` reads the standard IDX files (gzipped or not) from a directory you
  name, or the subset shipped in ``minimax/data/mnist`` (the first 1024 images of the
  MNIST test split; provenance and license in its README) so experiments run offline.
* :func:`load_mnist_subset` / :func:`mnist32`: the first n shipped digits as float32
  vectors in [0, 1] (``scale="unit"``) or [−1, 1] (``scale="symmetric"``).
* :class:`GaussianMixture` with :func:`ring8` and :func:`grid25`, the 2-D mode-collapse
  benchmarks (Metz et al., "Unrolled GANs", 2017; Srivastava et al., "VEEGAN", 2017).
* Samplers that are pytrees, so a game keeps their arrays as traced leaves
  (:func:`minimax.games.gan_game`): :func:`minibatches` of a dataset and
  :meth:`GaussianMixture.batches`.

IDX format (LeCun et al., http://yann.lecun.com/exdb/mnist/): a big-endian int32 magic
number ``0x0000 TT DD`` (TT = 0x08 for unsigned bytes, DD = number of dimensions), one
big-endian int32 per dimension, then the data in C order. Images have magic 2051
(ubyte, 3 dims), labels 2049 (ubyte, 1 dim).
"""
from __future__ import annotations

import dataclasses
import gzip
import os
from typing import NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np

#: The directory of the shipped MNIST subset.
SHIPPED_MNIST_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mnist")

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
_PREFIX = {"train": "train", "test": "t10k"}


def read_idx(path: str, magic: int) -> np.ndarray:
    """Reads one IDX file (``.gz`` or raw) and checks its magic number and size.

    Raises ``ValueError`` naming ``path`` when the magic number is not ``magic``, or the
    payload size does not match the dimensions in the header.
    """
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as err:  # gzip.BadGzipFile is an OSError
        raise ValueError(f"{path}: cannot read IDX file ({err})") from err
    if len(raw) < 4:
        raise ValueError(f"{path}: too short for an IDX header ({len(raw)} bytes)")
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise ValueError(f"{path}: IDX magic number is {found}, expected {magic} "
                         f"({'images' if magic == IMAGES_MAGIC else 'labels'} file)")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(raw)} bytes, need {header})")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    if len(raw) - header != int(np.prod(shape)):
        raise ValueError(f"{path}: header says shape {shape} ({int(np.prod(shape))} bytes) but the "
                         f"file holds {len(raw) - header} bytes of data")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(shape)


def _find(directory: str, stem: str) -> str:
    for name in (stem + ".gz", stem):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f"no MNIST file {stem}[.gz] in {directory}")


def load_mnist(directory: Optional[str] = None, split: str = "test"):
    """MNIST images (uint8, (n, 28, 28)) and labels (uint8, (n,)) from IDX files.

    Args:
      directory: folder holding ``{train,t10k}-images-idx3-ubyte[.gz]`` and
        ``{train,t10k}-labels-idx1-ubyte[.gz]``; default the shipped subset
        (test split only, 1024 images).
      split: ``"train"`` or ``"test"``.
    """
    if split not in _PREFIX:
        raise ValueError(f"load_mnist: `split` must be 'train' or 'test', got {split!r}")
    directory = SHIPPED_MNIST_DIR if directory is None else directory
    images_path = _find(directory, f"{_PREFIX[split]}-images-idx3-ubyte")
    labels_path = _find(directory, f"{_PREFIX[split]}-labels-idx1-ubyte")
    images = read_idx(images_path, IMAGES_MAGIC)
    labels = read_idx(labels_path, LABELS_MAGIC)
    if images.shape[1:] != (28, 28):
        raise ValueError(f"{images_path}: images are {images.shape[1:]}, expected (28, 28)")
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{images_path} holds {images.shape[0]} images but {labels_path} "
                         f"holds {labels.shape[0]} labels")
    return images, labels


def load_mnist_subset(n: int, *, scale: str = "unit", flatten: bool = True,
                      directory: Optional[str] = None, split: str = "test"):
    """The first ``n`` MNIST digits as float32 images and their int32 labels.

    ``scale="unit"`` maps pixels p ∈ {0..255} to p/255 ∈ [0, 1]; ``"symmetric"`` to
    2p/255 − 1 ∈ [−1, 1]. Images are (n, 784) when ``flatten`` else (n, 28, 28).
    """
    if scale not in ("unit", "symmetric"):
        raise ValueError(f"load_mnist_subset: `scale` must be 'unit' or 'symmetric', got {scale!r}")
    images, labels = load_mnist(directory, split)
    if not 1 <= n <= images.shape[0]:
        raise ValueError(f"load_mnist_subset: `n` must be in [1, {images.shape[0]}], got {n}")
    x = images[:n].astype(np.float32) / 255.0
    x = 2.0 * x - 1.0 if scale == "symmetric" else x
    x = x.reshape(n, -1) if flatten else x
    return jnp.asarray(x), jnp.asarray(labels[:n], jnp.int32)


def mnist32(scale: str = "unit"):
    """The 32 fixed training digits of the memorization experiments: the first 32 images
    of the MNIST test split, (32, 784) float32 (labels 7 2 1 0 4 1 4 9 5 9 0 6 9 0 1 5 ...)."""
    return load_mnist_subset(32, scale=scale)


class GaussianMixture(NamedTuple):
    """An equal-weight mixture of isotropic Gaussians N(c_k, σ² I) in 2-D."""
    centers: jax.Array   # (K, 2) mode centers c_k
    sigma: float         # standard deviation σ of every mode

    def sample(self, key, n: int) -> jax.Array:
        """n points, (n, 2): a uniform mode k, then c_k + σ ε with ε ~ N(0, I)."""
        k_mode, k_noise = jax.random.split(key)
        modes = jax.random.randint(k_mode, (n,), 0, self.centers.shape[0])
        return self.centers[modes] + self.sigma * jax.random.normal(k_noise, (n, 2))

    def batches(self, n: int) -> "MixtureBatches":
        """A pytree sampler ``key -> (n, 2)`` of fresh samples (the mixture's arrays stay leaves)."""
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"GaussianMixture.batches: `n` must be a positive integer, got {n!r}")
        return MixtureBatches(self, int(n))


@dataclasses.dataclass(frozen=True)
class MixtureBatches:
    """``key -> mixture.sample(key, n)``, a pytree whose leaves are the mixture's centers and σ."""

    mixture: GaussianMixture
    n: int

    def __call__(self, key):
        return self.mixture.sample(key, self.n)


@dataclasses.dataclass(frozen=True)
class Minibatches:
    """``key -> batch_size`` rows of ``array`` drawn without replacement, a pytree with ``array`` as its leaf."""

    array: jax.Array
    batch_size: int

    def __call__(self, key):
        rows = jax.random.choice(key, self.array.shape[0], (self.batch_size,), replace=False)
        return self.array[rows]


def minibatches(array, batch_size: int) -> Minibatches:
    """A sampler of minibatches of a dataset for :func:`minimax.games.gan_game` (``data=``).

    Each step draws ``batch_size`` of the n rows uniformly without replacement. The dataset
    is a leaf of the game, so it is an argument of the compiled program, not a constant.
    """
    array = jnp.asarray(array)
    if array.ndim == 0 or array.shape[0] == 0:
        raise ValueError(f"minibatches: `array` needs a leading axis of samples, got shape {array.shape}")
    if not isinstance(batch_size, (int, np.integer)) or not 1 <= batch_size <= array.shape[0]:
        raise ValueError(f"minibatches: `batch_size` must be an integer in [1, {array.shape[0]}], got {batch_size!r}")
    return Minibatches(array, int(batch_size))


jax.tree_util.register_dataclass(MixtureBatches, data_fields=["mixture"], meta_fields=["n"])
jax.tree_util.register_dataclass(Minibatches, data_fields=["array"], meta_fields=["batch_size"])


def ring8(radius: float = 2.0, sigma: float = 0.02) -> GaussianMixture:
    """8 modes evenly spaced on a circle, c_k = r (cos 2πk/8, sin 2πk/8) (Metz et al., 2017)."""
    angles = 2 * jnp.pi * jnp.arange(8) / 8
    return GaussianMixture(radius * jnp.stack([jnp.cos(angles), jnp.sin(angles)], 1), sigma)


def grid25(spacing: float = 2.0, sigma: float = 0.05) -> GaussianMixture:
    """25 modes on a 5×5 grid, c = spacing · (i, j) for i, j ∈ {−2..2} (Srivastava et al., 2017)."""
    ticks = spacing * jnp.arange(-2.0, 3.0)
    gx, gy = jnp.meshgrid(ticks, ticks, indexing="ij")
    return GaussianMixture(jnp.stack([gx.ravel(), gy.ravel()], 1), sigma)
