"""Closed-form divergences D(P‖Q), for tests and notebooks.

Discrete: ``p`` and ``q`` are non-negative arrays over the same atoms. The sums are
D_f = Σ q·f(p/q) in closed form, which also holds for unnormalized measures (the LSGAN
identity uses one). Gaussian: P = N(m1, s1²), Q = N(m2, s2²) in 1-D, standard deviations
s > 0. Conventions follow the f-GAN table (Nowozin et al., NeurIPS 2016, Table 1): the
squared Hellinger distance is Σ(√p − √q)² (no ½), Pearson χ² = Σ(p − q)²/q.
Every function is a jnp expression: it can be jitted and vmapped over parameters.
"""
from __future__ import annotations

import jax.numpy as jnp
from jax.scipy.special import ndtr, rel_entr, xlogy


def _pair(name, p, q):
    p, q = jnp.asarray(p, jnp.result_type(float)), jnp.asarray(q, jnp.result_type(float))
    if p.shape != q.shape:
        raise ValueError(f"{name}: p and q must have the same shape, got {p.shape} and {q.shape}")
    return p, q


def _sum_ratio(num, den):
    """Σ num/den with 0/0 = 0 and a/0 = ∞."""
    safe = jnp.where(den > 0, den, 1.0)
    return jnp.sum(jnp.where(den > 0, num / safe, jnp.where(num > 0, jnp.inf, 0.0)))


def kl(p, q):
    """KL(P‖Q) = Σ p log(p/q)."""
    p, q = _pair("kl", p, q)
    return jnp.sum(rel_entr(p, q))


def jensen_shannon(p, q, pi=0.5):
    """π·KL(P‖M) + (1−π)·KL(Q‖M), M = πP + (1−π)Q; JSD(P, Q) at π = ½ (at most log 2)."""
    p, q = _pair("jensen_shannon", p, q)
    m = pi * p + (1.0 - pi) * q
    return pi * kl(p, m) + (1.0 - pi) * kl(q, m)


def total_variation(p, q):
    """TV(P, Q) = ½Σ|p − q|."""
    p, q = _pair("total_variation", p, q)
    return 0.5 * jnp.sum(jnp.abs(p - q))


def squared_hellinger(p, q):
    """H²(P, Q) = Σ(√p − √q)²."""
    p, q = _pair("squared_hellinger", p, q)
    return jnp.sum(jnp.square(jnp.sqrt(p) - jnp.sqrt(q)))


def pearson_chi2(p, q):
    """Pearson χ²(P‖Q) = Σ(p − q)²/q."""
    p, q = _pair("pearson_chi2", p, q)
    return _sum_ratio(jnp.square(p - q), q)


def neyman_chi2(p, q):
    """Neyman χ²(P‖Q) = Σ(p − q)²/p = Pearson χ²(Q‖P)."""
    return pearson_chi2(q, p)


def jeffrey(p, q):
    """Jeffrey divergence Σ(p − q) log(p/q) = KL(P‖Q) + KL(Q‖P)."""
    return kl(p, q) + kl(q, p)


def alpha_divergence(p, q, alpha):
    """D_α(P‖Q) = Σ(p^α q^{1−α} − q − α(p − q)) / (α(α − 1)), α ∉ {0, 1} (atoms with p = q = 0 add 0)."""
    p, q = _pair("alpha_divergence", p, q)
    term = jnp.power(p, alpha) * jnp.power(q, 1.0 - alpha) - q - alpha * (p - q)
    return jnp.sum(jnp.where((p > 0) | (q > 0), term, 0.0)) / (alpha * (alpha - 1.0))


def optimal_discriminator(p, q):
    """D*(x) = p(x)/(p(x) + q(x)), the critic maximizing V(G, D) for data P and model Q.

    Reference: Goodfellow et al., NeurIPS 2014, Proposition 1.
    """
    p, q = _pair("optimal_discriminator", p, q)
    return p / (p + q)


def gan_value(p, q, d):
    """V(G, D) = E_P[log D(x)] + E_Q[log(1 − D(x))] for discriminator values ``d`` on the atoms.

    At d = :func:`optimal_discriminator` it equals 2·JSD(P, Q) − log 4 (Goodfellow et al., Theorem 1).
    """
    p, q = _pair("gan_value", p, q)
    return jnp.sum(xlogy(p, d)) + jnp.sum(xlogy(q, 1.0 - d))


def _gaussians(*params):
    return [jnp.asarray(x, jnp.result_type(float)) for x in params]


def gaussian_kl(m1, s1, m2, s2):
    """KL(N(m1, s1²)‖N(m2, s2²)) = log(s2/s1) + (s1² + (m1 − m2)²)/(2 s2²) − ½."""
    m1, s1, m2, s2 = _gaussians(m1, s1, m2, s2)
    return jnp.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2.0 * s2**2) - 0.5


def gaussian_jeffrey(m1, s1, m2, s2):
    """KL(P‖Q) + KL(Q‖P) between 1-D Gaussians."""
    return gaussian_kl(m1, s1, m2, s2) + gaussian_kl(m2, s2, m1, s1)


def _gaussian_affinity(a, m1, s1, m2, s2):
    """∫ p^a q^{1−a} dx = s1^{1−a} s2^a / σ_a · exp(−a(1−a)(m1 − m2)²/(2σ_a²)), σ_a² = a s2² + (1−a) s1².

    Infinite where σ_a² <= 0 (a > 1 or a < 0 with the wider density in the denominator).
    """
    m1, s1, m2, s2 = _gaussians(m1, s1, m2, s2)
    var = a * s2**2 + (1.0 - a) * s1**2
    safe = jnp.where(var > 0, var, 1.0)
    value = s1 ** (1.0 - a) * s2**a / jnp.sqrt(safe) * jnp.exp(-a * (1.0 - a) * (m1 - m2) ** 2 / (2.0 * safe))
    return jnp.where(var > 0, value, jnp.inf)


def gaussian_alpha_divergence(m1, s1, m2, s2, alpha):
    """D_α(P‖Q) = (∫p^α q^{1−α} − 1)/(α(α − 1)); infinite where the integral diverges."""
    return (_gaussian_affinity(alpha, m1, s1, m2, s2) - 1.0) / (alpha * (alpha - 1.0))


def gaussian_squared_hellinger(m1, s1, m2, s2):
    """∫(√p − √q)² = 2 − 2·√(2 s1 s2/(s1² + s2²))·exp(−(m1 − m2)²/(4(s1² + s2²)))."""
    return 2.0 - 2.0 * _gaussian_affinity(0.5, m1, s1, m2, s2)


def gaussian_pearson_chi2(m1, s1, m2, s2):
    """∫(p − q)²/q = ∫p²/q − 1; finite iff 2 s2² > s1²."""
    return _gaussian_affinity(2.0, m1, s1, m2, s2) - 1.0


def gaussian_neyman_chi2(m1, s1, m2, s2):
    """∫(p − q)²/p = Pearson χ²(Q‖P); finite iff 2 s1² > s2²."""
    return gaussian_pearson_chi2(m2, s2, m1, s1)


def gaussian_total_variation(m1, s1, m2, s2):
    """TV = sup_A P(A) − Q(A), A = {p > q}, in closed form through the crossing points.

    Equal variances: 2Φ(|m1 − m2|/(2s)) − 1. Otherwise, with N(ma, sa²) the narrower
    density, A = [x₋, x₊] (roots of log p − log q, a quadratic) and
    TV = [Φ((x₊−ma)/sa) − Φ((x₋−ma)/sa)] − [Φ((x₊−mb)/sb) − Φ((x₋−mb)/sb)].
    """
    m1, s1, m2, s2 = _gaussians(m1, s1, m2, s2)
    swap = s1 > s2
    ma, sa = jnp.where(swap, m2, m1), jnp.where(swap, s2, s1)
    mb, sb = jnp.where(swap, m1, m2), jnp.where(swap, s1, s2)
    # log N(x; ma, sa²) − log N(x; mb, sb²) = A x² + B x + C, with A < 0 when sa < sb.
    a = 0.5 / sb**2 - 0.5 / sa**2
    b = ma / sa**2 - mb / sb**2
    c = mb**2 / (2.0 * sb**2) - ma**2 / (2.0 * sa**2) + jnp.log(sb / sa)
    equal = a == 0
    root = -0.5 * (b + jnp.where(b >= 0, 1.0, -1.0) * jnp.sqrt(jnp.maximum(b * b - 4.0 * a * c, 0.0)))
    root = jnp.where(root == 0, 1.0, root)
    r1, r2 = root / jnp.where(equal, -1.0, a), c / root  # stable quadratic roots
    lo, hi = jnp.minimum(r1, r2), jnp.maximum(r1, r2)
    mass = lambda m, s: ndtr((hi - m) / s) - ndtr((lo - m) / s)
    unequal = mass(ma, sa) - mass(mb, sb)
    return jnp.where(equal, 2.0 * ndtr(jnp.abs(m1 - m2) / (2.0 * s1)) - 1.0, unequal)
