"""Sample distances against brute force, closed forms and their statistical properties."""
import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import norm

from minimax.losses import sample_distances as sd

KERNELS = {
    "gaussian": (sd.gaussian_kernel((0.5, 1.0, 3.0)),
                 lambda a, b: sum(math.exp(-np.sum((a - b) ** 2) / (2 * s**2)) for s in (0.5, 1.0, 3.0))),
    "imq": (sd.imq_kernel(2.0), lambda a, b: 1.0 / math.sqrt(1.0 + np.sum((a - b) ** 2) / 4.0)),
    "energy": (sd.energy_kernel(),
               lambda a, b: np.linalg.norm(a) + np.linalg.norm(b) - np.linalg.norm(a - b)),
}


def brute_mmd2(x, y, k, unbiased):
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    n, m = len(x), len(y)
    sxx = sum(k(x[i], x[j]) for i in range(n) for j in range(n) if not (unbiased and i == j))
    syy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if not (unbiased and i == j))
    sxy = sum(k(x[i], y[j]) for i in range(n) for j in range(m))
    dxx, dyy = (n * (n - 1), m * (m - 1)) if unbiased else (n * n, m * m)
    return sxx / dxx + syy / dyy - 2 * sxy / (n * m)


def samples(seed, n, m, d=3, shift=0.7):
    kx, ky = jax.random.split(jax.random.PRNGKey(seed))
    return jax.random.normal(kx, (n, d)), 1.3 * jax.random.normal(ky, (m, d)) + shift


@pytest.mark.parametrize("kernel", sorted(KERNELS))
@pytest.mark.parametrize("unbiased", [False, True])
def test_mmd2_matches_double_loop(kernel, unbiased):
    x, y = samples(0, 5, 7)
    k, k_ref = KERNELS[kernel]
    np.testing.assert_allclose(sd.mmd2(x, y, k, unbiased=unbiased), brute_mmd2(x, y, k_ref, unbiased),
                               rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kernel", sorted(KERNELS))
def test_mmd2_zero_for_identical_sets(kernel):
    x, _ = samples(1, 6, 6)
    assert abs(float(sd.mmd2(x, x, KERNELS[kernel][0]))) < 1e-5


_biased = jax.jit(lambda x, y: jnp.stack([sd.mmd2(x, y, k) for k, _ in KERNELS.values()]))


@settings(max_examples=30, deadline=None)
@given(arrays(np.float32, (4, 2), elements=st.floats(-5, 5, width=32)),
       arrays(np.float32, (5, 2), elements=st.floats(-5, 5, width=32)))
def test_biased_mmd2_nonnegative(x, y):
    assert np.all(np.asarray(_biased(x, y)) >= -1e-5)


def _gauss_kernel_mean(sigma, delta, var):
    """E exp(−D²/(2σ²)) for D ~ N(delta, var)."""
    return sigma / math.sqrt(sigma**2 + var) * math.exp(-delta**2 / (2 * (sigma**2 + var)))


def test_unbiased_mmd2_is_unbiased_and_biased_is_not():
    """Averaged over many draws of n = m = 4 samples, the U-statistic matches the population
    MMD² (closed form for 1-D Gaussians and a Gaussian kernel, σ = 1) and the V-statistic does not."""
    mu1, s1, mu2, s2, draws, n = 0.0, 1.0, 1.0, 1.5, 4000, 4
    pop = (_gauss_kernel_mean(1.0, 0.0, 2 * s1**2) + _gauss_kernel_mean(1.0, 0.0, 2 * s2**2)
           - 2 * _gauss_kernel_mean(1.0, mu2 - mu1, s1**2 + s2**2))
    k = sd.gaussian_kernel((1.0,))

    def one(key, same):
        kx, ky = jax.random.split(key)
        x = mu1 + s1 * jax.random.normal(kx, (n, 1))
        y = jnp.where(same, mu1 + s1 * jax.random.normal(ky, (n, 1)), mu2 + s2 * jax.random.normal(ky, (n, 1)))
        return jnp.stack([sd.mmd2(x, y, k, unbiased=True), sd.mmd2(x, y, k)])

    keys = jax.random.split(jax.random.PRNGKey(0), draws)
    for same, truth in ((True, 0.0), (False, pop)):
        est = np.asarray(jax.jit(jax.vmap(lambda kk: one(kk, same)))(keys))
        mean, se = est.mean(0), est.std(0) / math.sqrt(draws)
        assert abs(mean[0] - truth) < 4 * se[0]
        assert mean[1] - truth > 4 * se[1]


@pytest.mark.parametrize("unbiased", [False, True])
def test_energy_distance_matches_brute_force(unbiased):
    x, y = samples(2, 5, 6)
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    d = lambda a, b: np.linalg.norm(a - b)
    exy = np.mean([d(a, b) for a in x for b in y])
    pairs = lambda s: [d(s[i], s[j]) for i in range(len(s)) for j in range(len(s)) if not (unbiased and i == j)]
    ref = 2 * exy - np.mean(pairs(x)) - np.mean(pairs(y))
    np.testing.assert_allclose(sd.energy_distance(x, y, unbiased=unbiased), ref, rtol=1e-4)


def test_energy_distance_point_masses():
    a, b = np.array([1.0, -2.0]), np.array([4.0, 2.0])
    x, y = np.tile(a, (3, 1)), np.tile(b, (4, 1))
    np.testing.assert_allclose(sd.energy_distance(x, y), 2 * np.linalg.norm(a - b), rtol=1e-6)


def test_energy_distance_two_gaussians_closed_form():
    """X ~ N(μ1, σ1²), Y ~ N(μ2, σ2²): E|X − Y| = s√(2/π) e^{−δ²/2s²} + δ(1 − 2Φ(−δ/s)), s² = σ1² + σ2²,
    and E|X − X'| = 2σ1/√π."""
    mu1, s1, mu2, s2, n = 0.0, 1.0, 1.0, 2.0, 3000
    s, delta = math.hypot(s1, s2), mu2 - mu1
    exy = s * math.sqrt(2 / math.pi) * math.exp(-delta**2 / (2 * s**2)) + delta * (1 - 2 * norm.cdf(-delta / s))
    truth = 2 * exy - 2 * s1 / math.sqrt(math.pi) - 2 * s2 / math.sqrt(math.pi)
    kx, ky = jax.random.split(jax.random.PRNGKey(3))
    x, y = mu1 + s1 * jax.random.normal(kx, (n,)), mu2 + s2 * jax.random.normal(ky, (n,))
    np.testing.assert_allclose(sd.energy_distance(x, y, unbiased=True), truth, atol=0.04)


@pytest.mark.parametrize("p", [1.0, 2.0])
def test_sliced_wasserstein_in_1d_is_sorted_wasserstein(p):
    x, y = samples(4, 9, 9, d=1)
    ref = np.mean(np.abs(np.sort(np.asarray(x[:, 0])) - np.sort(np.asarray(y[:, 0]))) ** p)
    np.testing.assert_allclose(sd.sliced_wasserstein(x, y, jax.random.PRNGKey(0), num_projections=3, p=p),
                               ref, rtol=1e-5)
    np.testing.assert_allclose(sd.wasserstein_1d(x[:, 0], y[:, 0], p), ref, rtol=1e-5)


def test_sliced_wasserstein_of_a_translation():
    """y = x + c: every projection is translated by ⟨u, c⟩, and E_u⟨u, c⟩² = ‖c‖²/d on the sphere."""
    x, _ = samples(5, 50, 50, d=4)
    c = jnp.array([1.0, -2.0, 0.5, 2.0])
    sw = sd.sliced_wasserstein(x, x + c, jax.random.PRNGKey(1), num_projections=20000, p=2)
    np.testing.assert_allclose(sw, jnp.sum(c**2) / 4, rtol=0.03)


def test_sliced_wasserstein_jit_and_key():
    x, y = samples(6, 8, 8)
    f = jax.jit(lambda a, b, k: sd.sliced_wasserstein(a, b, k, num_projections=16))
    k0, k1 = jax.random.PRNGKey(0), jax.random.PRNGKey(1)
    np.testing.assert_allclose(f(x, y, k0), sd.sliced_wasserstein(x, y, k0, num_projections=16), rtol=1e-6)
    assert float(f(x, y, k0)) != float(f(x, y, k1))
    assert np.all(np.isfinite(jax.grad(lambda a: f(a, y, k0))(x)))


@pytest.mark.parametrize("n", [3, 5, 6])
@pytest.mark.parametrize("p", [1.0, 2.0])
def test_lp_primal_equals_dual_equals_permutation_search(n, p):
    x, y = samples(10 + n, n, n, d=2)
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    cost = np.linalg.norm(x[:, None] - y[None], axis=-1) ** p
    brute = min(cost[np.arange(n), list(perm)].mean() for perm in itertools.permutations(range(n)))
    primal, dual = sd.wasserstein_lp(x, y, p=p), sd.wasserstein_lp_dual(x, y, p=p)
    np.testing.assert_allclose(primal.value, brute, rtol=1e-7)
    np.testing.assert_allclose(dual.value, brute, rtol=1e-7)
    np.testing.assert_allclose(np.sum(primal.plan * cost), primal.value, rtol=1e-7)
    np.testing.assert_allclose(primal.plan.sum(1), np.full(n, 1 / n), atol=1e-9)
    np.testing.assert_allclose(primal.plan.sum(0), np.full(n, 1 / n), atol=1e-9)
    assert np.all(primal.plan >= -1e-12)
    assert np.all(dual.f[:, None] + dual.g[None, :] <= cost + 1e-9)


def test_lp_weighted_histograms_1d_closed_form():
    """W1 between weighted histograms on bins 0..K−1 is Σ_k |CDF_a(k) − CDF_b(k)| (bin width 1)."""
    rng = np.random.default_rng(0)
    a, b = rng.random(7), rng.random(7)
    a, b = a / a.sum(), b / b.sum()
    bins = np.arange(7.0)
    ref = np.sum(np.abs(np.cumsum(a) - np.cumsum(b)))
    np.testing.assert_allclose(sd.wasserstein_lp(bins, bins, a, b).value, ref, rtol=1e-7)
    np.testing.assert_allclose(sd.wasserstein_lp_dual(bins, bins, a, b).value, ref, rtol=1e-7)


@pytest.mark.parametrize("p", [1.0, 2.0])
def test_wasserstein_1d_unequal_sizes_matches_lp(p):
    x, y = samples(7, 5, 7, d=1)
    np.testing.assert_allclose(sd.wasserstein_1d(x[:, 0], y[:, 0], p), sd.wasserstein_lp(x, y, p=p).value,
                               rtol=1e-5)


def test_mmd_gan_distance():
    d = sd.mmd_gan(sd.gaussian_kernel((1.0,)))
    x, y = samples(8, 6, 6)
    np.testing.assert_allclose(d.generator_loss(x, y), sd.mmd2(x, y, sd.gaussian_kernel((1.0,))), rtol=1e-6)
    np.testing.assert_allclose(d.critic_loss(x, y), -d.generator_loss(x, y), rtol=1e-6)
    assert d.zero_sum and d.critic_projection is None


def test_errors():
    x, y = samples(9, 4, 4)
    with pytest.raises(ValueError, match="same sample shape"):
        sd.mmd2(x, y[:, :2])
    with pytest.raises(ValueError, match="at least 2 samples"):
        sd.mmd2(x[:1], y, unbiased=True)
    with pytest.raises(ValueError, match="bandwidths"):
        sd.gaussian_kernel((1.0, -1.0))
    with pytest.raises(ValueError, match="equal total mass"):
        sd.wasserstein_lp(x, y, np.ones(4), np.ones(4) / 4)
    with pytest.raises(ValueError, match="1-D"):
        sd.wasserstein_1d(x, y)
