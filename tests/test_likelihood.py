"""Gaussian-mixture likelihood against scipy, and maximum likelihood by gradient descent."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from minimax.losses.likelihood import GMMParams, cholesky_factors, fit_gmm, gmm_log_prob, gmm_nll, gmm_sample


def random_params(key, k=3, d=2, full=False):
    k1, k2, k3 = jax.random.split(key, 3)
    scales = 0.3 * jax.random.normal(k3, (k, d, d) if full else (k, d))
    return GMMParams(jax.random.normal(k1, (k,)), 2.0 * jax.random.normal(k2, (k, d)), scales)


def scipy_nll(params, x):
    w = np.asarray(jax.nn.softmax(params.logits), np.float64)
    L = np.asarray(cholesky_factors(params), np.float64)
    logp = np.stack([np.log(w[k]) + multivariate_normal(np.asarray(params.means[k], np.float64), L[k] @ L[k].T)
                     .logpdf(np.asarray(x, np.float64)) for k in range(len(w))])
    return -np.mean(logsumexp(logp, axis=0))


@pytest.mark.parametrize("full", [False, True])
def test_nll_matches_scipy(full):
    params = random_params(jax.random.PRNGKey(0), full=full)
    x = 3.0 * jax.random.normal(jax.random.PRNGKey(1), (20, 2))
    x = x.at[0].set(jnp.array([40.0, -40.0]))  # far from every component: needs logsumexp
    nll, grad = jax.jit(jax.value_and_grad(gmm_nll))(params, x)
    np.testing.assert_allclose(nll, scipy_nll(params, x), rtol=1e-5)
    assert all(np.all(np.isfinite(g)) for g in grad)


def test_diag_equals_full_with_diagonal_factor():
    p = random_params(jax.random.PRNGKey(2))
    full = GMMParams(p.logits, p.means, jax.vmap(jnp.diag)(p.scales))
    x = jax.random.normal(jax.random.PRNGKey(3), (10, 2))
    np.testing.assert_allclose(gmm_log_prob(p, x), gmm_log_prob(full, x), rtol=1e-5)


@pytest.mark.parametrize("covariance", ["diag", "full"])
def test_one_component_fit_recovers_sample_moments(covariance):
    """The MLE of one Gaussian is the sample mean and the (biased) sample covariance."""
    x = jax.random.normal(jax.random.PRNGKey(4), (200, 2)) @ jnp.array([[1.5, 0.0], [0.8, 0.5]]) + jnp.array([3.0, -1.0])
    params, losses = jax.jit(lambda x: fit_gmm(x, 1, jax.random.PRNGKey(0), covariance=covariance,
                                               steps=800, learning_rate=0.05))(x)
    L = cholesky_factors(params)[0]
    cov = np.cov(np.asarray(x).T, bias=True)
    np.testing.assert_allclose(params.means[0], x.mean(0), atol=2e-2)
    np.testing.assert_allclose(L @ L.T, cov if covariance == "full" else np.diag(np.diag(cov)), atol=2e-2)
    assert losses[-1] < losses[0]


def test_fit_recovers_well_separated_mixture():
    truth = GMMParams(jnp.log(jnp.array([0.3, 0.7])), jnp.array([[-4.0, 0.0], [4.0, 1.0]]),
                      jnp.log(jnp.array([[0.5, 1.0], [1.0, 0.5]])))
    x = gmm_sample(truth, jax.random.PRNGKey(5), 2000)
    params, _ = jax.jit(lambda x: fit_gmm(x, 2, jax.random.PRNGKey(1), steps=600, learning_rate=0.1))(x)
    order = np.argsort(np.asarray(params.means[:, 0]))
    np.testing.assert_allclose(np.asarray(jax.nn.softmax(params.logits))[order], [0.3, 0.7], atol=0.03)
    np.testing.assert_allclose(np.asarray(params.means)[order], truth.means, atol=0.1)
    np.testing.assert_allclose(np.exp(np.asarray(params.scales))[order], np.exp(truth.scales), atol=0.1)


def test_shape_errors():
    p = random_params(jax.random.PRNGKey(6))
    with pytest.raises(ValueError, match="shape"):
        gmm_nll(p, jnp.zeros((5, 3)))
    with pytest.raises(ValueError, match="GMMParams"):
        gmm_nll(GMMParams(p.logits[:2], p.means, p.scales), jnp.zeros((5, 2)))
    with pytest.raises(ValueError, match="covariance"):
        fit_gmm(jnp.zeros((5, 2)), 1, jax.random.PRNGKey(0), covariance="spherical")
