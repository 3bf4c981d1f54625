"""Feature embeddings for evaluation metrics: a small convolutional MNIST classifier.

:func:`mnist_features` is the penultimate-layer embedding of :class:`MNISTClassifier`
with the shipped weights (``mnist_cnn.msgpack``, sha256 :data:`WEIGHTS_SHA256`, verified on
load); :mod:`minimax.metrics` uses it for ``features="mnist"``. How the weights were trained,
their held-out accuracy and the MNIST provenance are in README.md in this folder.
"""
from minimax.features.mnist import (EMBED_DIM, NUM_HELD_OUT, NUM_TRAIN, WEIGHTS_PATH, WEIGHTS_SHA256,
                                    MNISTClassifier, as_images, load_params, mnist_features, sha256_of)

__all__ = ["EMBED_DIM", "NUM_HELD_OUT", "NUM_TRAIN", "WEIGHTS_PATH", "WEIGHTS_SHA256", "MNISTClassifier",
           "as_images", "load_params", "mnist_features", "sha256_of"]
