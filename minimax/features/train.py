"""Trains the shipped MNIST classifier deterministically and writes its weights.

    python -m minimax.features.train --data ../shared/data/mnist --out minimax/features/mnist_cnn.msgpack

Reads the MNIST test split (10 000 images, IDX) from ``--data``, trains
:class:`~minimax.features.mnist.MNISTClassifier` on the first 8 000 images with Adam
(softmax cross-entropy, fixed initialization key, fixed batch order from a fixed
permutation key per epoch, the whole run one jitted ``lax.scan``), reports the accuracy on
the last 2 000 held-out images, and writes the variables with ``flax.serialization``
(msgpack). Rerunning it on CPU with the same jax/jaxlib reproduces the file bit for bit
(compare its sha256 with :data:`~minimax.features.mnist.WEIGHTS_SHA256`).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import serialization

from minimax.data import load_mnist
from minimax.features.mnist import NUM_HELD_OUT, NUM_TRAIN, MNISTClassifier

EPOCHS = 8
BATCH_SIZE = 100
LEARNING_RATE = 2e-3
SEED = 0


def split(images, labels):
    """((train images, train labels), (held-out images, held-out labels)) as float32 pixels in [0, 1] and int32.

    Train: the first :data:`NUM_TRAIN` images; held out: the next :data:`NUM_HELD_OUT`.
    """
    if images.shape[0] < NUM_TRAIN + NUM_HELD_OUT:
        raise ValueError(f"need at least {NUM_TRAIN + NUM_HELD_OUT} MNIST images, got {images.shape[0]}")
    x = images.astype(np.float32) / 255.0
    y = labels.astype(np.int32)
    end = NUM_TRAIN + NUM_HELD_OUT
    return (x[:NUM_TRAIN], y[:NUM_TRAIN]), (x[NUM_TRAIN:end], y[NUM_TRAIN:end])


def train(images, labels, *, epochs: int = EPOCHS, batch_size: int = BATCH_SIZE,
          learning_rate: float = LEARNING_RATE, seed: int = SEED):
    """Variables of :class:`MNISTClassifier` after ``epochs`` passes of Adam over (images, labels).

    Learning rate cosine-decayed from ``learning_rate`` to 0; every epoch visits the images in
    the order ``jax.random.permutation(fold_in(PRNGKey(seed + 1), epoch), n)`` in batches of
    ``batch_size`` (the last n mod batch_size of each permutation are skipped).
    """
    model = MNISTClassifier()
    images, labels = jnp.asarray(images, jnp.float32), jnp.asarray(labels, jnp.int32)
    steps_per_epoch = images.shape[0] // batch_size
    tx = optax.adam(optax.cosine_decay_schedule(learning_rate, epochs * steps_per_epoch))
    params = model.init(jax.random.PRNGKey(seed), images[:1])
    order_key = jax.random.PRNGKey(seed + 1)

    def loss(p, x, y):
        return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(model.apply(p, x), y))

    def step(carry, idx):
        p, opt = carry
        grads = jax.grad(loss)(p, images[idx], labels[idx])
        updates, opt = tx.update(grads, opt, p)
        return (optax.apply_updates(p, updates), opt), None

    def epoch(carry, e):
        perm = jax.random.permutation(jax.random.fold_in(order_key, e), images.shape[0])
        batches = perm[:steps_per_epoch * batch_size].reshape(steps_per_epoch, batch_size)
        return jax.lax.scan(step, carry, batches)[0], None

    run = jax.jit(lambda p: jax.lax.scan(epoch, (p, tx.init(p)), jnp.arange(epochs))[0][0])
    return run(params)


def accuracy(params, images, labels) -> float:
    """Fraction of ``images`` whose argmax logit is the label."""
    logits = jax.jit(MNISTClassifier().apply)(params, jnp.asarray(images, jnp.float32))
    return float(jnp.mean(jnp.argmax(logits, axis=-1) == jnp.asarray(labels)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="folder with t10k-{images-idx3,labels-idx1}-ubyte[.gz]")
    parser.add_argument("--out", required=True, help="where to write the weights (flax msgpack)")
    args = parser.parse_args(argv)
    (x_train, y_train), (x_held, y_held) = split(*load_mnist(args.data, "test"))
    start = time.perf_counter()
    params = jax.block_until_ready(train(x_train, y_train))
    seconds = time.perf_counter() - start
    raw = serialization.to_bytes(params)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "wb") as f:
        f.write(raw)
    print(f"trained on {len(y_train)} images in {seconds:.1f} s (jax {jax.__version__}, {jax.default_backend()})")
    print(f"held-out accuracy: {accuracy(params, x_held, y_held):.4f} on {len(y_held)} images")
    print(f"wrote {args.out}: {len(raw)} bytes, sha256 {hashlib.sha256(raw).hexdigest()}")


if __name__ == "__main__":
    main()
