"""minimax.data: the IDX loader, the shipped MNIST subset and its provenance, Gaussian mixtures."""
import gzip
import hashlib
import os
import re

import jax
import numpy as np
import pytest

from minimax import data
from minimax.data.make_subset import main as make_subset, write_idx

SOURCE = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "mnist")


def test_shipped_subset_loads():
    images, labels = data.load_mnist()
    assert images.shape == (1024, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (1024,) and labels.dtype == np.uint8
    assert labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert set(labels.tolist()) == set(range(10)) and images.max() == 255 and images.min() == 0


def test_shipped_checksums_match_readme():
    readme = open(os.path.join(data.SHIPPED_MNIST_DIR, "README.md")).read()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        digest = hashlib.sha256(open(os.path.join(data.SHIPPED_MNIST_DIR, name), "rb").read()).hexdigest()
        assert re.search(rf"`{name}` \(here\).*{digest}", readme), name


@pytest.mark.skipif(not os.path.isdir(SOURCE), reason="the full MNIST test split is not next to this checkout")
def test_subset_is_the_first_images_of_the_source(tmp_path):
    make_subset([SOURCE, "--n", "1024", "--out", str(tmp_path)])
    for split_dir in (tmp_path, data.SHIPPED_MNIST_DIR):
        images, labels = data.load_mnist(str(split_dir))
        full_images, full_labels = data.load_mnist(SOURCE)
        np.testing.assert_array_equal(images, full_images[:1024])
        np.testing.assert_array_equal(labels, full_labels[:1024])


def test_mnist32_scaling():
    unit, labels = data.mnist32()
    symmetric, _ = data.mnist32(scale="symmetric")
    images, raw_labels = data.load_mnist()
    assert unit.shape == (32, 784) and unit.dtype == np.float32
    np.testing.assert_allclose(unit, images[:32].reshape(32, -1) / 255.0, rtol=1e-6)
    np.testing.assert_allclose(symmetric, 2 * unit - 1, atol=1e-6)
    assert float(unit.min()) == 0.0 and float(unit.max()) == 1.0
    assert float(symmetric.min()) == -1.0 and float(symmetric.max()) == 1.0
    np.testing.assert_array_equal(labels, raw_labels[:32])
    square, _ = data.load_mnist_subset(5, flatten=False)
    assert square.shape == (5, 28, 28)


def test_reads_uncompressed_files(tmp_path):
    images, labels = data.load_mnist()
    write_idx(str(tmp_path / "t10k-images-idx3-ubyte"), images[:10], data.IMAGES_MAGIC)
    write_idx(str(tmp_path / "t10k-labels-idx1-ubyte"), labels[:10], data.LABELS_MAGIC)
    im, lb = data.load_mnist(str(tmp_path))
    np.testing.assert_array_equal(im, images[:10])
    np.testing.assert_array_equal(lb, labels[:10])


def test_rejects_corrupted_files(tmp_path):
    images, labels = data.load_mnist()
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    write_idx(str(tmp_path / "t10k-labels-idx1-ubyte.gz"), labels[:4], data.LABELS_MAGIC)
    with gzip.open(path, "wb") as f:  # labels magic in the images file
        f.write((2049).to_bytes(4, "big") + (4).to_bytes(4, "big") + bytes(4))
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte\.gz: IDX magic number is 2049, expected 2051"):
        data.load_mnist(str(tmp_path))
    with gzip.open(path, "wb") as f:  # header claims 5 images, payload holds 4
        f.write((2051).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in (5, 28, 28)) + images[:4].tobytes())
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte\.gz: header says shape \(5, 28, 28\)"):
        data.load_mnist(str(tmp_path))
    path.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte\.gz: cannot read"):
        data.load_mnist(str(tmp_path))
    write_idx(str(path), images[:3], data.IMAGES_MAGIC)  # 3 images, 4 labels
    with pytest.raises(ValueError, match="3 images but .* 4 labels"):
        data.load_mnist(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        data.load_mnist(split="train")
    with pytest.raises(ValueError, match="split"):
        data.load_mnist(split="validation")
    with pytest.raises(ValueError, match="scale"):
        data.load_mnist_subset(4, scale="bytes")


@pytest.mark.parametrize("mixture, k", [(data.ring8(), 8), (data.grid25(), 25)])
def test_gaussian_mixtures(mixture, k):
    centers = np.asarray(mixture.centers)
    assert centers.shape == (k, 2) and len({tuple(c) for c in centers.round(6)}) == k
    if k == 8:
        np.testing.assert_allclose(np.linalg.norm(centers, axis=1), 2.0, rtol=1e-6)
    else:
        assert sorted(set(centers[:, 0].round(6))) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    key = jax.random.PRNGKey(0)
    x = np.asarray(jax.jit(mixture.sample, static_argnums=1)(key, 20_000))
    np.testing.assert_array_equal(x, np.asarray(jax.jit(mixture.sample, static_argnums=1)(key, 20_000)))
    np.testing.assert_allclose(x, np.asarray(mixture.sample(key, 20_000)), atol=1e-5)  # jit-invariant
    dist = np.linalg.norm(x[:, None] - centers[None], axis=-1)
    nearest = dist.argmin(1)
    assert dist.min(1).max() < 6 * mixture.sigma  # every sample near its mode
    counts = np.bincount(nearest, minlength=k)
    assert counts.min() > 0.7 * 20_000 / k  # modes equally weighted
    np.testing.assert_allclose((x - centers[nearest]).std(), mixture.sigma, rtol=0.03)
