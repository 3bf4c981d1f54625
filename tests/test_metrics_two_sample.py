"""minimax.metrics: mode coverage and the two-sample tests (MMD permutation, KS, Welch t)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from minimax.data import grid25, ring8
from minimax.losses.sample_distances import gaussian_kernel, mmd2
from minimax.metrics import (MODE_COUNT_FRACTION, kolmogorov_sf, ks_statistic, ks_test, mmd_permutation_test,
                             mode_coverage, welch_t_test)


@pytest.mark.parametrize("mixture", [ring8(), grid25()], ids=["ring8", "grid25"])
def test_samples_at_the_centers_cover_every_mode(mixture):
    k = mixture.centers.shape[0]
    out = mode_coverage(jnp.tile(mixture.centers, (10, 1)), mixture)
    assert int(out.modes_covered) == k and float(out.high_quality) == 1.0
    np.testing.assert_array_equal(out.counts, np.full(k, 10))


def test_dropped_modes_are_not_covered_and_far_samples_are_not_high_quality():
    mixture = ring8()
    kept = mixture.centers[:5]
    samples = jnp.concatenate([jnp.tile(kept, (20, 1)), jnp.full((100, 2), 10.0)])  # 5 modes, 100 far points
    out = mode_coverage(samples, mixture)
    assert int(out.modes_covered) == 5
    assert float(out.high_quality) == pytest.approx(0.5)
    far = mode_coverage(jnp.full((64, 2), 10.0), mixture)
    assert int(far.modes_covered) == 0 and float(far.high_quality) == 0.0


def test_radius_and_min_count():
    mixture = ring8()  # σ = 0.02
    c = mixture.centers[0]
    inside, outside = c + jnp.array([0.059, 0.0]), c + jnp.array([0.061, 0.0])  # 3σ = 0.06
    out = mode_coverage(jnp.stack([inside, outside]), mixture, min_count=1)
    assert float(out.high_quality) == 0.5 and int(out.modes_covered) == 1
    # default threshold ⌈0.2·n/K⌉: with n = 800, a mode needs 20 samples
    samples = jnp.concatenate([jnp.tile(mixture.centers[:1], (19, 1)), jnp.tile(mixture.centers[1:2], (20, 1)),
                               jnp.full((761, 2), 10.0)])
    assert MODE_COUNT_FRACTION == 0.2
    assert int(mode_coverage(samples, mixture).modes_covered) == 1


def test_exact_mixture_samples_are_high_quality_at_the_gaussian_rate():
    mixture = grid25()
    out = jax.jit(lambda k: mode_coverage(mixture.sample(k, 20_000), mixture))(jax.random.PRNGKey(0))
    assert int(out.modes_covered) == 25
    assert float(out.high_quality) == pytest.approx(1 - np.exp(-4.5), abs=0.003)  # P(‖ε‖ ≤ 3σ) in 2-D


@pytest.mark.parametrize("n,m,shift", [(5, 7, 0.5), (40, 40, 0.6), (100, 37, 0.3), (300, 200, 0.1), (50, 50, 2.5)])
def test_ks_matches_scipy(n, m, shift):
    rng = np.random.default_rng(n + m)
    x, y = rng.normal(size=n), rng.normal(shift, 1.3, size=m)
    ours, ref = ks_test(x, y, method="exact"), stats.ks_2samp(x, y, method="exact")
    assert float(ours.statistic) == pytest.approx(ref.statistic, rel=1e-6)
    assert float(ours.p_value) == pytest.approx(ref.pvalue, rel=1e-5, abs=1e-12)
    asymp = ks_test(x, y, method="asymp")
    expected = stats.kstwobign.sf(np.sqrt(n * m / (n + m)) * ref.statistic)
    assert float(asymp.p_value) == pytest.approx(expected, rel=1e-4, abs=1e-7)


def test_ks_statistic_with_ties_and_kolmogorov_tail():
    x, y = np.array([0.0, 1.0, 1.0, 2.0]), np.array([1.0, 1.0, 3.0])
    assert float(ks_statistic(x, y)) == pytest.approx(stats.ks_2samp(x, y).statistic)
    lam = np.linspace(0.05, 3.0, 40)
    np.testing.assert_allclose(kolmogorov_sf(lam), stats.kstwobign.sf(lam), atol=1e-6)


@pytest.mark.parametrize("n,m,shift,scale", [(10, 25, 0.3, 3.0), (200, 150, 0.1, 0.5), (40, 60, 2.0, 1.0)])
def test_welch_matches_scipy(n, m, shift, scale):
    rng = np.random.default_rng(n)
    x, y = rng.normal(size=n), rng.normal(shift, scale, size=m)
    ours, ref = welch_t_test(x, y), stats.ttest_ind(x, y, equal_var=False)
    assert float(ours.statistic) == pytest.approx(ref.statistic, rel=1e-5)
    assert float(ours.p_value) == pytest.approx(ref.pvalue, rel=1e-4)


@pytest.mark.parametrize("unbiased", [False, True])
def test_mmd_statistic_is_mmd2(unbiased):
    kx, ky, kp = jax.random.split(jax.random.PRNGKey(0), 3)
    x, y = jax.random.normal(kx, (30, 2)), 1.5 * jax.random.normal(ky, (20, 2))
    kernel = gaussian_kernel((0.5, 2.0))
    out = mmd_permutation_test(x, y, kp, kernel=kernel, unbiased=unbiased)
    assert float(out.statistic) == pytest.approx(float(mmd2(x, y, kernel, unbiased=unbiased)), rel=1e-4, abs=1e-6)


def test_mmd_test_rejects_different_distributions():
    kx, ky, kp = jax.random.split(jax.random.PRNGKey(1), 3)
    x, y = jax.random.normal(kx, (50, 2)), jax.random.normal(ky, (50, 2)) + jnp.array([1.0, 0.0])
    assert float(mmd_permutation_test(x, y, kp, num_permutations=200).p_value) < 0.01


def test_mmd_test_p_values_are_uniform_under_the_null():
    """R repeats with P = Q: the rejection rate at level α is Binomial(R, ≈α)/R; allow 4 standard deviations."""
    repeats, perms = 200, 99

    def p_value(key):
        kx, ky, kp = jax.random.split(key, 3)
        return mmd_permutation_test(jax.random.normal(kx, (30, 2)), jax.random.normal(ky, (30, 2)), kp,
                                    num_permutations=perms).p_value

    p = np.asarray(jax.jit(jax.vmap(p_value))(jax.random.split(jax.random.PRNGKey(2), repeats)))
    assert np.all((p > 0) & (p <= 1))
    for alpha in (0.05, 0.25, 0.5):
        level = np.floor(alpha * (perms + 1)) / (perms + 1)  # P(p ≤ α) exactly, for continuous statistics
        tol = 4 * np.sqrt(level * (1 - level) / repeats)
        assert abs(np.mean(p <= alpha) - level) <= tol, (alpha, np.mean(p <= alpha))


def test_argument_errors():
    with pytest.raises(ValueError, match="method"):
        ks_test([1.0, 2.0], [3.0], method="bootstrap")
    with pytest.raises(ValueError, match="at least 2"):
        welch_t_test([1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="samples"):
        mode_coverage(jnp.zeros((4, 3)), ring8())
    with pytest.raises(ValueError, match="num_permutations"):
        mmd_permutation_test(jnp.zeros((3, 2)), jnp.ones((3, 2)), jax.random.PRNGKey(0), num_permutations=0)
