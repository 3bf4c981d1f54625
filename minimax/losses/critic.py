"""Element-wise losses l(t) of critic outputs t (no reduction).

A GAN game with loss l is L(θ, w) = −E_data[l(f_w(x))] − E_model[l(−f_w(G_θ(z)))],
minimized in θ and maximized in w.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp


def logistic(t):
    """l(t) = log(1 + exp(−t)) = softplus(−t): the Jensen–Shannon / original GAN loss.

    Reference: Goodfellow et al., "Generative adversarial nets", NeurIPS 2014.
    """
    return jax.nn.softplus(-jnp.asarray(t))


def linear(t):
    """l(t) = −t: the Wasserstein loss (with a Lipschitz critic) and the zero-infinity loss
    (the same game with no constraint at all).

    References: Arjovsky, Chintala, Bottou, ICML 2017; Lee, "Zero-Infinity GAN", NeurIPS OPT 2025.
    """
    return -jnp.asarray(t)
