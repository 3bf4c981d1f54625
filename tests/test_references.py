"""Closed-form divergences against their definitions (quadrature), known bounds and special cases."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from minimax.losses import references as R

LOG2 = math.log(2.0)


def _normalize(w):
    w = np.asarray(w, np.float64) + 1e-3
    return (w / w.sum()).astype(np.float32)


@settings(max_examples=25, deadline=None)
@given(arrays(np.float64, 5, elements=st.floats(0, 1)), arrays(np.float64, 5, elements=st.floats(0, 1)))
def test_discrete_divergences_satisfy_known_inequalities(a, b):
    p, q = _normalize(a), _normalize(b)
    kl, tv, h2, js = (float(f(p, q)) for f in (R.kl, R.total_variation, R.squared_hellinger, R.jensen_shannon))
    pearson = float(R.pearson_chi2(p, q))
    assert kl >= -1e-6 and -1e-6 <= js <= LOG2 + 1e-6 and 0 <= tv <= 1 + 1e-6  # float32 rounding at p ≈ q
    assert tv**2 <= kl / 2 + 1e-6                        # Pinsker
    assert h2 / 2 <= tv + 1e-6 and tv <= math.sqrt(h2) + 1e-6  # H_std² <= TV <= √2·H_std, H_std² = H²/2
    assert kl <= math.log1p(pearson) + 1e-5              # KL <= log(1 + χ²)
    np.testing.assert_allclose(R.jeffrey(p, q), np.sum((p - q) * np.log(p / q)), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(R.neyman_chi2(p, q), np.sum((p - q) ** 2 / p), rtol=1e-4)
    # α-divergence: α = 2 is ½·Pearson, α = ½ is 2·H², and α → 1 is KL.
    np.testing.assert_allclose(R.alpha_divergence(p, q, 2.0), pearson / 2, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(R.alpha_divergence(p, q, 0.5), 2 * h2, rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(R.alpha_divergence(p, q, 1.0 - 1e-3), kl, rtol=0.02, atol=1e-3)


def test_disjoint_and_identical_supports():
    p, q = jnp.array([0.5, 0.5, 0.0, 0.0]), jnp.array([0.0, 0.0, 0.25, 0.75])
    np.testing.assert_allclose([R.jensen_shannon(p, q), R.total_variation(p, q), R.squared_hellinger(p, q)],
                               [LOG2, 1.0, 2.0], rtol=1e-6)
    assert np.isinf(R.kl(p, q)) and np.isinf(R.pearson_chi2(p, q)) and np.isinf(R.neyman_chi2(p, q))
    for f in (R.kl, R.jensen_shannon, R.total_variation, R.squared_hellinger, R.pearson_chi2, R.neyman_chi2, R.jeffrey):
        assert float(f(p, p)) == pytest.approx(0.0, abs=1e-7), f.__name__


def test_optimal_discriminator_and_the_value_of_the_game():
    """V(G, D*) = 2·JSD − log 4 at D* = p/(p+q), every other D gives less, and D* ≡ ½ at P = Q."""
    p, q = jnp.array([0.1, 0.4, 0.2, 0.3]), jnp.array([0.3, 0.3, 0.35, 0.05])
    d_star = R.optimal_discriminator(p, q)
    value = R.gan_value(p, q, d_star)
    np.testing.assert_allclose(value, 2 * R.jensen_shannon(p, q) - math.log(4.0), rtol=1e-6)
    others = jax.random.uniform(jax.random.PRNGKey(0), (300, 4), minval=1e-3, maxval=1 - 1e-3)
    assert np.all(jax.vmap(lambda d: R.gan_value(p, q, d))(others) <= value + 1e-6)
    np.testing.assert_allclose(R.optimal_discriminator(p, p), 0.5)
    np.testing.assert_allclose(R.gan_value(p, p, R.optimal_discriminator(p, p)), -math.log(4.0), rtol=1e-6)


# (m1, s1, m2, s2): narrower P, wider P, equal variances, and a far pair.
GAUSS = np.array([[0.3, 1.0, -0.2, 1.2], [1.0, 1.3, 0.0, 1.0], [0.0, 1.0, 1.5, 1.0], [-2.0, 0.7, 1.0, 0.9]])


def _quadrature(integrand):
    """∫ integrand(p, q) dx for each row of GAUSS, on a fine grid in float64."""
    x = np.linspace(-25.0, 25.0, 200_001)
    out = []
    for m1, s1, m2, s2 in GAUSS:
        p = np.exp(-0.5 * ((x - m1) / s1) ** 2) / (s1 * math.sqrt(2 * math.pi))
        q = np.exp(-0.5 * ((x - m2) / s2) ** 2) / (s2 * math.sqrt(2 * math.pi))
        with np.errstate(divide="ignore", invalid="ignore"):
            vals = np.nan_to_num(integrand(p, q))
        out.append(np.trapezoid(vals, x))
    return np.array(out)


DEFINITIONS = {
    "gaussian_kl": lambda p, q: p * np.log(p / q),
    "gaussian_jeffrey": lambda p, q: (p - q) * np.log(p / q),
    "gaussian_squared_hellinger": lambda p, q: (np.sqrt(p) - np.sqrt(q)) ** 2,
    "gaussian_pearson_chi2": lambda p, q: (p - q) ** 2 / q,
    "gaussian_neyman_chi2": lambda p, q: (p - q) ** 2 / p,
    "gaussian_total_variation": lambda p, q: 0.5 * np.abs(p - q),
}


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_gaussian_closed_forms_match_quadrature(name):
    closed = getattr(R, name)(*GAUSS.T)
    np.testing.assert_allclose(closed, _quadrature(DEFINITIONS[name]), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("alpha", [-0.5, 0.3, 1.5])
def test_gaussian_alpha_divergence_matches_quadrature(alpha):
    integrand = lambda p, q: (p**alpha * q ** (1 - alpha) - q - alpha * (p - q)) / (alpha * (alpha - 1))
    np.testing.assert_allclose(R.gaussian_alpha_divergence(*GAUSS.T, alpha), _quadrature(integrand), rtol=1e-4)


def test_gaussian_chi2_is_infinite_where_the_integral_diverges():
    assert np.isinf(R.gaussian_pearson_chi2(0.0, 2.0, 0.0, 1.0))   # 2·s2² = 2 <= s1² = 4
    assert np.isinf(R.gaussian_neyman_chi2(0.0, 1.0, 0.0, 2.0))
    assert np.isfinite(R.gaussian_pearson_chi2(0.0, 1.0, 0.0, 2.0))
    # TV is symmetric and continuous through equal variances.
    np.testing.assert_allclose(R.gaussian_total_variation(0.0, 1.0, 1.0, 1.3), R.gaussian_total_variation(1.0, 1.3, 0.0, 1.0),
                               rtol=1e-6)
    np.testing.assert_allclose(R.gaussian_total_variation(0.0, 1.0, 1.0, 1.0 + 1e-3),
                               R.gaussian_total_variation(0.0, 1.0, 1.0, 1.0), atol=1e-3)


def test_mismatched_shapes_are_rejected():
    for f in (R.kl, R.jensen_shannon, R.total_variation, R.squared_hellinger, R.pearson_chi2, R.optimal_discriminator):
        with pytest.raises(ValueError, match="same shape"):
            f(jnp.ones(3) / 3, jnp.ones(4) / 4)
