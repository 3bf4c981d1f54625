"""Likelihood baseline: Gaussian-mixture density fitting by maximum likelihood.

For data ν̂ = (1/n) Σ δ_{x_i} and a model density p_θ,

    KL(ν̂ ‖ p_θ) = −(1/n) Σ_i log p_θ(x_i) + const,

so minimizing the mean negative log-likelihood (:func:`gmm_nll`) is empirical-KL
minimization: the MLE/KL entry beside the adversarial and sample distances, trained by
gradient descent (:func:`fit_gmm`).

Parameterization (:class:`GMMParams`, all unconstrained, so any optax optimizer applies):
weights w = softmax(logits); component k is N(μ_k, Σ_k) with Σ_k = L_k L_kᵀ where

* ``scales`` of shape (K, d) (diagonal): L_k = diag(exp(scales_k)), i.e. log standard deviations;
* ``scales`` of shape (K, d, d) (full): L_k = strict_lower(scales_k) + diag(exp(diag(scales_k))),
  a Cholesky factor with positive diagonal.

Reference: Bishop, "Pattern recognition and machine learning", 2006, §9.2; the KL/MLE
view: ``shared/references/000`` (density fitting = empirical KL minimization).
"""
from __future__ import annotations

import math
from typing import NamedTuple, Tuple

import jax
import jax.numpy as jnp
import optax
from jax.scipy.linalg import solve_triangular


class GMMParams(NamedTuple):
    """Gaussian mixture parameters: logits (K,), means (K, d), scales (K, d) or (K, d, d)."""

    logits: jax.Array
    means: jax.Array
    scales: jax.Array


def _check(params: GMMParams, x=None):
    k, d = params.means.shape if params.means.ndim == 2 else (None, None)
    if k is None or params.logits.shape != (k,) or params.scales.shape not in ((k, d), (k, d, d)):
        raise ValueError("GMMParams: need logits (K,), means (K, d) and scales (K, d) or (K, d, d), got "
                         f"{params.logits.shape}, {params.means.shape}, {params.scales.shape}")
    if x is not None and (x.ndim != 2 or x.shape[1] != d):
        raise ValueError(f"gmm: data must have shape (n, {d}), got {x.shape}")


def cholesky_factors(params: GMMParams) -> jax.Array:
    """L_k (K, d, d), lower triangular with positive diagonal, Σ_k = L_k L_kᵀ."""
    _check(params)
    s = params.scales
    if s.ndim == 2:
        return jax.vmap(jnp.diag)(jnp.exp(s))
    return jnp.tril(s, -1) + jax.vmap(jnp.diag)(jnp.exp(jnp.diagonal(s, axis1=-2, axis2=-1)))


def gmm_log_prob(params: GMMParams, x) -> jax.Array:
    """log p(x_i) = logsumexp_k [log w_k + log N(x_i; μ_k, Σ_k)] for each row of x (n, d).

    log N(x; μ, LLᵀ) = −½‖L⁻¹(x − μ)‖² − Σ_j log L_jj − (d/2) log 2π.
    """
    x = jnp.asarray(x)
    _check(params, x)
    d = x.shape[1]
    diff = x[None, :, :] - params.means[:, None, :]                                   # (K, n, d)
    if params.scales.ndim == 2:
        z = diff * jnp.exp(-params.scales)[:, None, :]
        log_det = jnp.sum(params.scales, axis=-1)
    else:
        L = cholesky_factors(params)
        z = jax.vmap(lambda l, r: solve_triangular(l, r.T, lower=True).T)(L, diff)
        log_det = jnp.sum(jnp.log(jnp.diagonal(L, axis1=-2, axis2=-1)), axis=-1)
    log_normal = -0.5 * jnp.sum(z**2, axis=-1) - log_det[:, None] - 0.5 * d * math.log(2 * math.pi)
    log_w = jax.nn.log_softmax(params.logits)
    return jax.nn.logsumexp(log_w[:, None] + log_normal, axis=0)


def gmm_nll(params: GMMParams, x) -> jax.Array:
    """Mean negative log-likelihood −(1/n) Σ_i log p(x_i) = KL(ν̂ ‖ p) + const."""
    return -jnp.mean(gmm_log_prob(params, x))


def gmm_sample(params: GMMParams, key, n: int) -> jax.Array:
    """n samples x = μ_k + L_k ε, k ~ Categorical(softmax(logits)), ε ~ N(0, I)."""
    _check(params)
    kc, ke = jax.random.split(key)
    comp = jax.random.categorical(kc, params.logits, shape=(n,))
    eps = jax.random.normal(ke, (n, params.means.shape[1]), params.means.dtype)
    return params.means[comp] + jnp.einsum("nij,nj->ni", cholesky_factors(params)[comp], eps)


def gmm_init(key, x, num_components: int, *, covariance: str = "diag") -> GMMParams:
    """Equal weights, means at ``num_components`` distinct random data points, and every
    component's covariance the diagonal of the data variance."""
    x = jnp.asarray(x)
    if x.ndim != 2 or x.shape[0] < num_components or num_components < 1:
        raise ValueError(f"gmm_init: need data (n, d) with n >= num_components >= 1, got {x.shape} "
                         f"and num_components={num_components}")
    if covariance not in ("diag", "full"):
        raise ValueError(f"gmm_init: `covariance` must be 'diag' or 'full', got {covariance!r}")
    k, d = num_components, x.shape[1]
    means = x[jax.random.choice(key, x.shape[0], (k,), replace=False)]
    log_std = jnp.broadcast_to(0.5 * jnp.log(jnp.var(x, axis=0) + 1e-6), (k, d))
    scales = log_std if covariance == "diag" else jax.vmap(jnp.diag)(log_std)
    return GMMParams(jnp.zeros(k, x.dtype), means, scales)


def fit_gmm(x, num_components: int, key, *, covariance: str = "diag", steps: int = 500,
            learning_rate: float = 0.05) -> Tuple[GMMParams, jax.Array]:
    """Maximum likelihood by gradient descent: ``steps`` Adam steps on :func:`gmm_nll`
    from :func:`gmm_init`, in one ``lax.scan`` (jittable; ``learning_rate`` may be traced).

    Returns the fitted parameters and the NLL before each step (shape (steps,)).
    """
    if steps < 1:
        raise ValueError(f"fit_gmm: `steps` must be >= 1, got {steps}")
    x = jnp.asarray(x)
    opt = optax.adam(learning_rate)
    params = gmm_init(key, x, num_components, covariance=covariance)

    def step(carry, _):
        p, state = carry
        loss, g = jax.value_and_grad(gmm_nll)(p, x)
        updates, state = opt.update(g, state, p)
        return (optax.apply_updates(p, updates), state), loss

    (params, _), losses = jax.lax.scan(step, (params, opt.init(params)), None, length=steps)
    return params, losses
