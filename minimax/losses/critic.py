"""Element-wise losses l(t) of critic outputs t (no reduction).

A GAN game with loss l is L(θ, w) = −E_data[l(f_w(x))] − E_model[l(−f_w(G_θ(z)))],
minimized in θ and maximized in w. Every loss here is written in a form whose value
and gradient stay finite for logits of magnitude 1e4 (softplus, relu, polynomials).
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
    (the same game with no constraint at all). Also the generator form of the hinge loss.

    References: Arjovsky, Chintala, Bottou, ICML 2017; Lee, "Zero-Infinity GAN", NeurIPS OPT 2025.
    """
    return -jnp.asarray(t)


def non_saturating(t):
    """Generator loss on the logits t of generated samples: −log D(G(z)) = −log σ(t) = softplus(−t).

    It replaces the saturating log(1 − σ(t)) of the minimax game, whose gradient vanishes
    when the critic rejects the samples (t → −∞); here ∂/∂t → −1 instead.

    Reference: Goodfellow et al., "Generative adversarial nets", NeurIPS 2014.
    """
    return logistic(t)


def least_squares(t, label):
    """l(t) = ½(t − label)²: the LSGAN loss pulling the critic output t toward ``label``.

    LSGAN uses labels a (fake) and b (real) for the critic and c for the generator:
    critic ½E(D(x) − b)² + ½E(D(G(z)) − a)², generator ½E(D(G(z)) − c)².

    Reference: Mao et al., "Least squares generative adversarial networks", ICCV 2017.
    """
    return 0.5 * jnp.square(jnp.asarray(t) - label)


def hinge(t, margin=1.0):
    """l(t) = max(0, margin − t): the hinge critic loss, l(D(x)) + l(−D(G(z))).

    The generator form is :func:`linear`, −D(G(z)).

    References: Lim & Ye, "Geometric GAN", 2017; Miyato et al., "Spectral normalization
    for generative adversarial networks", ICLR 2018.
    """
    return jax.nn.relu(margin - jnp.asarray(t))
