"""Writes the shipped MNIST subset: the first N images and labels of an MNIST split.

    python -m minimax.data.make_subset /work/shared/data/mnist --n 1024

reads ``t10k-{images-idx3,labels-idx1}-ubyte.gz`` from the source directory and writes
the same IDX format, gzip-compressed with a zero timestamp (byte-reproducible), to
``minimax/data/mnist`` (or ``--out``), then prints the sha256 of every file involved.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import os

import numpy as np

from minimax.data import IMAGES_MAGIC, LABELS_MAGIC, SHIPPED_MNIST_DIR, load_mnist


def write_idx(path: str, array: np.ndarray, magic: int) -> None:
    """Writes a uint8 array as an IDX file (gzip-compressed when ``path`` ends in .gz)."""
    array = np.ascontiguousarray(array, np.uint8)
    if magic & 0xFF != array.ndim:
        raise ValueError(f"magic {magic} declares {magic & 0xFF} dims, array has {array.ndim}")
    payload = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape) + array.tobytes()
    if path.endswith(".gz"):
        with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as f:
            f.write(payload)
    else:
        with open(path, "wb") as f:
            f.write(payload)


def sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="directory with the MNIST test split IDX files")
    parser.add_argument("--n", type=int, default=1024, help="number of leading images to keep")
    parser.add_argument("--out", default=SHIPPED_MNIST_DIR)
    args = parser.parse_args(argv)
    images, labels = load_mnist(args.source, "test")
    os.makedirs(args.out, exist_ok=True)
    outputs = [(os.path.join(args.out, "t10k-images-idx3-ubyte.gz"), images[:args.n], IMAGES_MAGIC),
               (os.path.join(args.out, "t10k-labels-idx1-ubyte.gz"), labels[:args.n], LABELS_MAGIC)]
    for path, array, magic in outputs:
        write_idx(path, array, magic)
    for name in sorted(os.listdir(args.source)):
        if name.endswith(".gz"):
            print(f"source  {name}  {sha256(os.path.join(args.source, name))}")
    for path, _, _ in outputs:
        print(f"subset  {os.path.basename(path)}  {sha256(path)}")


if __name__ == "__main__":
    main()
