"""minimax.metrics evaluation metrics (FD, KID, precision/recall, density/coverage) and minimax.features."""
import functools
import hashlib
import itertools
import os
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import linalg

from minimax.data import load_mnist, load_mnist_subset
from minimax.features import (NUM_HELD_OUT, NUM_TRAIN, WEIGHTS_PATH, WEIGHTS_SHA256, load_params, mnist_features,
                              sha256_of)
from minimax.features import train as feature_train
from minimax.losses.sample_distances import mmd2
from minimax.metrics import KID_KERNEL, density_coverage, frechet_distance, kernel_distance, precision_recall

MNIST_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared", "data", "mnist")


@pytest.fixture(scope="module")
def mnist_split():
    if not os.path.isdir(MNIST_DIR):
        pytest.skip(f"the 10 000-image MNIST test split is not at {MNIST_DIR} (../shared/data/mnist from the repo)")
    return feature_train.split(*load_mnist(MNIST_DIR, "test"))


def _closed_form_fd(mu1, s1, mu2, s2):
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * linalg.sqrtm(s1 @ s2).real))


def _with_moments(rng, n, mu, cov):
    """n points whose sample mean is exactly mu and sample covariance (1/(n−1)) exactly cov."""
    z = rng.normal(size=(n, len(mu)))
    z -= z.mean(0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.atleast_2d(np.cov(z, rowvar=False)))).T
    return mu + z @ np.linalg.cholesky(cov).T


def _random_cov(rng, d):
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


# ----------------------------------------------------------------------------- Fréchet distance

def test_frechet_distance_of_sets_with_given_moments_is_the_gaussian_closed_form():
    rng = np.random.default_rng(0)
    d = 5
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    s1, s2 = _random_cov(rng, d), _random_cov(rng, d)
    x, y = _with_moments(rng, 60, mu1, s1), _with_moments(rng, 90, mu2, s2)
    fd = float(frechet_distance(x.astype(np.float32), y.astype(np.float32)))
    assert fd == pytest.approx(_closed_form_fd(mu1, s1, mu2, s2), rel=1e-4)
    # 1-D: (μ1 − μ2)² + (σ1 − σ2)²
    a, b = _with_moments(rng, 40, np.array([1.0]), np.array([[4.0]])), _with_moments(rng, 30, np.array([-0.5]),
                                                                                    np.array([[0.25]]))
    assert float(frechet_distance(a[:, 0], b[:, 0])) == pytest.approx(1.5**2 + 1.5**2, rel=1e-5)


def test_frechet_distance_of_large_gaussian_samples_approaches_the_population_value():
    rng = np.random.default_rng(1)
    d, n = 3, 200_000
    mu1, mu2 = np.array([0.0, 1.0, -1.0]), np.array([0.5, 0.0, -1.0])
    s1, s2 = _random_cov(rng, d), np.diag([0.5, 2.0, 1.0])
    x = rng.multivariate_normal(mu1, s1, size=n)
    y = rng.multivariate_normal(mu2, s2, size=n)
    assert float(frechet_distance(x, y)) == pytest.approx(_closed_form_fd(mu1, s1, mu2, s2), abs=0.02)


def test_frechet_distance_is_stable_for_singular_ill_conditioned_covariances():
    # n < d and a spectrum over six decades, in float32: a matrix square root of ΣxΣy loses this
    rng = np.random.default_rng(2)
    x = (rng.normal(size=(300, 256)) * np.logspace(-3, 0, 256)).astype(np.float32)
    trace = float(np.sum(np.var(x, axis=0, ddof=1)))
    assert float(frechet_distance(x, x)) <= 1e-5 * trace
    shift = np.full(256, 0.1, np.float32)
    assert float(frechet_distance(x, x + shift)) == pytest.approx(float(np.sum(shift**2)), rel=1e-3)


# ----------------------------------------------------------------------------- FD and KID on MNIST

def test_fd_and_kid_are_near_zero_between_halves_of_mnist_and_large_against_noise():
    x, _ = load_mnist_subset(1024)  # shipped subset, no download
    noise = jax.random.uniform(jax.random.PRNGKey(0), (512, 784))
    for metric in (frechet_distance, kernel_distance):
        same = float(metric(x[:512], x[512:], features="mnist"))
        against_noise = float(metric(x[:512], noise, features="mnist"))
        assert abs(same) < 0.05 * against_noise, metric.__name__


# ----------------------------------------------------------------------------- KID

def _kid_draws(key, sample_x, sample_y, draws):
    def one(k):
        kx, ky = jax.random.split(k)
        x, y = sample_x(kx), sample_y(ky)
        return kernel_distance(x, y), mmd2(x, y, KID_KERNEL)
    return jax.jit(jax.vmap(one))(jax.random.split(key, draws))


def test_kid_is_unbiased_under_the_null():
    draws = 2000
    normal = lambda k: jax.random.normal(k, (20, 4))
    kid, biased = _kid_draws(jax.random.PRNGKey(0), normal, normal, draws)
    se = float(jnp.std(kid)) / np.sqrt(draws)
    assert abs(float(jnp.mean(kid))) < 4 * se
    assert float(jnp.mean(biased)) > 20 * se  # the V-statistic is biased upwards: the check has power


def test_kid_mean_is_the_population_mmd_of_the_cubic_kernel_in_1d():
    # d = 1: k(a, b) = (ab + 1)³ has features (a³, √3 a², √3 a, 1), so
    # MMD² = (E X³ − E Y³)² + 3(E X² − E Y²)² + 3(E X − E Y)²; X ~ N(1/2, 1), Y ~ N(0, 1)
    truth = (0.5**3 + 3 * 0.5) ** 2 + 3 * 0.25**2 + 3 * 0.5**2
    draws = 400
    kid, _ = _kid_draws(jax.random.PRNGKey(1), lambda k: 0.5 + jax.random.normal(k, (200,)),
                        lambda k: jax.random.normal(k, (200,)), draws)
    se = float(jnp.std(kid)) / np.sqrt(draws)
    assert float(jnp.mean(kid)) == pytest.approx(truth, abs=4 * se)
    assert se < 0.05 * truth


def test_kid_subsets():
    kx, ky, key = jax.random.split(jax.random.PRNGKey(3), 3)
    x, y = jax.random.normal(kx, (300, 8)), 0.3 + jax.random.normal(ky, (200, 8))
    full = float(kernel_distance(x[:200], y))
    # subsets holding every sample are permutations of the sets: each estimate is the full one
    assert float(kernel_distance(x[:200], y, subsets=3, subset_size=200, key=key)) == pytest.approx(full, rel=1e-4)
    # the mean over small subsets estimates the same MMD² as the whole sets
    many = float(kernel_distance(x, y, subsets=200, subset_size=100, key=key))
    assert many == pytest.approx(float(kernel_distance(x, y)), rel=0.1)


# ----------------------------------------------------------------------------- precision and recall

def _two_modes(rng, n):
    side = np.where(rng.random((n, 1)) < 0.5, -3.0, 3.0)
    return 0.5 * rng.normal(size=(n, 2)) + side * np.array([1.0, 0.0])


def test_precision_recall_of_identical_sets_is_one_one():
    x = np.random.default_rng(4).normal(size=(500, 6))
    pr = precision_recall(x, x)
    assert float(pr.precision) == 1.0 and float(pr.recall) == 1.0


def test_precision_recall_toy_behaviour():
    rng = np.random.default_rng(5)
    real = _two_modes(rng, 2000)
    one_mode = 0.5 * rng.normal(size=(2000, 2)) + np.array([3.0, 0.0])  # mode collapse: good samples, half the modes
    pr = precision_recall(real, one_mode)
    assert float(pr.precision) > 0.9 and 0.4 < float(pr.recall) < 0.55
    normal = rng.normal(size=(2000, 2))
    wide = 6.0 * rng.normal(size=(2000, 2))  # spread far beyond the data: covers it, mostly off it
    pr = precision_recall(normal, wide)
    assert float(pr.recall) > 0.9 and float(pr.precision) < 0.3
    # the definition is symmetric: swapping the sets swaps precision and recall
    swapped = precision_recall(wide, normal)
    assert float(swapped.precision) == float(pr.recall) and float(swapped.recall) == float(pr.precision)


# ----------------------------------------------------------------------------- density and coverage

def test_density_coverage_of_identical_sets_is_one():
    x = np.random.default_rng(6).normal(size=(800, 5))
    dc = density_coverage(x, x)
    assert float(dc.coverage) == 1.0
    assert float(dc.density) == pytest.approx(1.0, abs=1e-6)


def test_density_coverage_of_one_distribution_match_their_expectations():
    # E[density] = 1 and E[coverage] = 1 − Π_{i=1..k} (n − i)/(m + n − i) (Naeem et al., 2020)
    n, m, k = 1500, 1000, 5
    rng = np.random.default_rng(7)
    dens, cov = [], []
    for _ in range(4):
        dc = density_coverage(rng.normal(size=(n, 3)), rng.normal(size=(m, 3)), k=k)
        dens.append(float(dc.density))
        cov.append(float(dc.coverage))
    expected = 1.0 - np.prod([(n - i) / (m + n - i) for i in range(1, k + 1)])
    assert np.mean(dens) == pytest.approx(1.0, abs=0.03)
    assert np.mean(cov) == pytest.approx(expected, abs=0.01)


def test_density_coverage_of_outlying_fakes_is_low():
    rng = np.random.default_rng(8)
    real = rng.normal(size=(1000, 4))
    far = rng.normal(size=(1000, 4)) + 8.0
    dc = density_coverage(real, far)
    assert float(dc.density) == 0.0 and float(dc.coverage) == 0.0
    # a tenth of the fakes on the data, the rest far away: density ≈ 0.1 and coverage drops
    mixed = np.concatenate([rng.normal(size=(100, 4)), far[:900]])
    dc = density_coverage(real, mixed)
    assert float(dc.density) == pytest.approx(0.1, abs=0.03)
    assert float(dc.coverage) < 0.6


# ----------------------------------------------------------------------------- jit and errors

@pytest.mark.parametrize("metric", [frechet_distance, kernel_distance, precision_recall, density_coverage],
                         ids=lambda f: f.__name__)
def test_metrics_are_invariant_under_jit(metric):
    x, _ = load_mnist_subset(300)
    y = jnp.clip(x[::-1] + 0.1 * jax.random.normal(jax.random.PRNGKey(9), x.shape), 0.0, 1.0)
    for features in (None, "mnist"):
        eager = metric(x, y, features=features)
        jitted = jax.jit(functools.partial(metric, features=features))(x, y)
        np.testing.assert_allclose(np.asarray(eager), np.asarray(jitted), rtol=1e-5)


def test_kid_subsets_are_invariant_under_jit():
    x, y = jax.random.normal(jax.random.PRNGKey(10), (2, 120, 6))
    run = lambda key: kernel_distance(x, y, subsets=10, subset_size=50, key=key)
    key = jax.random.PRNGKey(11)
    np.testing.assert_allclose(float(run(key)), float(jax.jit(run)(key)), rtol=1e-5)


def test_bad_arguments_raise_clear_errors():
    x = np.zeros((10, 3))
    with pytest.raises(ValueError, match=r"frechet_distance: `x` and `y` must have the same number of features"):
        frechet_distance(x, np.zeros((10, 4)))
    with pytest.raises(ValueError, match=r"kernel_distance: unknown `features` 'inception'"):
        kernel_distance(x, x, features="inception")
    with pytest.raises(ValueError, match=r"precision_recall: `k` must be an integer in \[1, n − 1\] with n = 3"):
        precision_recall(x, x[:3], k=3)
    with pytest.raises(ValueError, match=r"density_coverage: `k` must be an integer"):
        density_coverage(x, x, k=10)
    with pytest.raises(ValueError, match=r"frechet_distance: `x` must have a leading sample axis with at least 2"):
        frechet_distance(x[:1], x)
    with pytest.raises(ValueError, match=r"density_coverage: `features` must map `real` of shape \(n, \.\.\.\) to"):
        density_coverage(x, x, features=lambda a: a[0])
    with pytest.raises(ValueError, match=r"kernel_distance: random subsets need a `key`"):
        kernel_distance(x, x, subsets=2, subset_size=5)
    with pytest.raises(ValueError, match=r"kernel_distance: `subset_size` must be an integer in \[2, 10\]"):
        kernel_distance(x, x, subsets=2, subset_size=11, key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match=r"MNIST features: expected images of shape"):
        frechet_distance(np.zeros((10, 32, 32)), np.zeros((10, 32, 32)), features="mnist")


# ----------------------------------------------------------------------------- the shipped MNIST classifier

def test_shipped_weights_match_their_recorded_checksum():
    assert sha256_of(WEIGHTS_PATH) == WEIGHTS_SHA256
    readme = open(os.path.join(os.path.dirname(WEIGHTS_PATH), "README.md")).read()
    assert WEIGHTS_SHA256 in readme
    assert os.path.getsize(WEIGHTS_PATH) < 1_000_000


def test_a_corrupted_weights_file_is_refused(tmp_path):
    raw = bytearray(open(WEIGHTS_PATH, "rb").read())
    raw[len(raw) // 2] ^= 1
    bad = tmp_path / "mnist_cnn.msgpack"
    bad.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=re.escape(f"sha256 is {hashlib.sha256(raw).hexdigest()}, expected "
                                                   f"{WEIGHTS_SHA256}")):
        load_params(str(bad))


def test_embedding_accepts_every_image_layout():
    x, _ = load_mnist_subset(16)
    embed = mnist_features()
    flat = np.asarray(embed(x))
    assert flat.shape == (16, 64)
    np.testing.assert_array_equal(flat, np.asarray(embed(x.reshape(16, 28, 28))))
    np.testing.assert_array_equal(flat, np.asarray(embed(x.reshape(16, 28, 28, 1))))


def test_held_out_accuracy_is_at_least_97_percent(mnist_split):
    (x_train, _), (x_held, y_held) = mnist_split
    assert len(x_train) == NUM_TRAIN and len(y_held) == NUM_HELD_OUT
    assert feature_train.accuracy(load_params(), x_held, y_held) >= 0.97


def test_embedding_separates_digit_classes(mnist_split):
    _, (x_held, y_held) = mnist_split
    f = np.asarray(mnist_features()(x_held))
    per_class = [f[y_held == c] for c in range(10)]
    size = min(len(c) for c in per_class) // 2  # 84: the rarest held-out class (5) has 169 images
    within = max(float(frechet_distance(c[:size], c[size:2 * size])) for c in per_class)
    between = min(float(frechet_distance(a[:size], b[:size])) for a, b in itertools.combinations(per_class, 2))
    assert between > 5 * within


@pytest.mark.slow
def test_retraining_reproduces_the_shipped_weights_bit_for_bit(tmp_path):
    if not os.path.isdir(MNIST_DIR):
        pytest.skip(f"the 10 000-image MNIST test split is not at {MNIST_DIR}")
    out = tmp_path / "mnist_cnn.msgpack"
    feature_train.main(["--data", MNIST_DIR, "--out", str(out)])
    assert sha256_of(str(out)) == WEIGHTS_SHA256
