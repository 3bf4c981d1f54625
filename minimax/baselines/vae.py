"""Variational auto-encoder: the ELBO, with the reparameterization or the score-function gradient.

Model (Kingma & Welling, "Auto-encoding variational Bayes", ICLR 2014): prior p(z) = N(0, I),
decoder p_θ(x|z) and encoder q_λ(z|x) = N(μ_λ(x), diag σ_λ(x)²), both MLPs
(:class:`minimax.models.MLPGenerator`). The evidence lower bound

    ELBO(x; θ, λ) = E_{q_λ(z|x)} [ f(z) ],   f(z) = log p_θ(x, z) − log q_λ(z|x)  <=  log p_θ(x)

is estimated with K samples z_k ~ q_λ(z|x); the game's loss is −(1/B) Σ_x ELBO(x) over a
minibatch (nats per example). Its gradient in θ is E_q[∇_θ log p_θ(x, z)] for both estimators;
they differ in λ:

* ``"reparameterization"``: z_k = μ_λ(x) + σ_λ(x) ⊙ ε_k, ε_k ~ N(0, I), so
  ∇_λ ELBO ≈ (1/K) Σ_k ∇_λ f(μ_λ + σ_λ ⊙ ε_k).
* ``"score_function"`` (REINFORCE, the log-derivative trick; Williams 1992, Paisley, Blei &
  Jordan ICML 2012, Ranganath, Gerrish & Blei AISTATS 2014):
  ∇_λ ELBO = E_q[(f(z) − b) ∇_λ log q_λ(z|x)] for any b independent of z, estimated with
  the leave-one-out baseline b_k = (1/(K−1)) Σ_{j≠k} f(z_j) (Kool, van Hoof & Welling,
  "Buy 4 REINFORCE samples, get a baseline for free!", ICLR DeepRL workshop 2019; Mnih & Rezende,
  VIMCO, ICML 2016), which needs K >= 2 and keeps the estimator unbiased. The term
  E_q[∇_λ f] at fixed z, −E_q[∇_λ log q] = 0, is left out, as in the course notes
  (shared/references/003).

Both are unbiased; :func:`gradient_variance` measures their variance on the same model and
data. Decoders: ``"gaussian"``, p_θ(x|z) = N(m_θ(z), diag e^{2s}) with a learned log-scale s per
coordinate; ``"bernoulli"``, p_θ(x|z) = Π_j m_j^{x_j} (1 − m_j)^{1−x_j}, m = sigmoid(logits_θ(z)),
for pixels in [0, 1]. :meth:`VAE.sample` returns the decoder mean m_θ(z) (the observation noise is
left out, as is usual when showing VAE samples).
"""
from __future__ import annotations

import dataclasses
import functools
import math
from typing import Dict, NamedTuple, Sequence, Tuple

import jax
import jax.flatten_util
import jax.numpy as jnp
from jax import lax

from minimax.baselines.common import (check_choice, check_positive_int, check_widths, data_batches,
                                      single_player)
from minimax.game import Game
from minimax.models import MLPGenerator

ESTIMATORS = ("reparameterization", "score_function")
LIKELIHOODS = ("gaussian", "bernoulli")
_LOG_2PI = math.log(2.0 * math.pi)


def _diag_normal_log_prob(x, mean, log_std):
    """log N(x; mean, diag e^{2 log_std}), summed over the last axis."""
    return jnp.sum(-0.5 * ((x - mean) * jnp.exp(-log_std)) ** 2 - log_std - 0.5 * _LOG_2PI, axis=-1)


@dataclasses.dataclass(frozen=True)
class VAE:
    """A VAE on flat data (n, ``data_dim``): MLP encoder and decoder with hidden ``widths``.

    Parameters (a dict): ``encoder`` (x → (μ, log σ), 2·latent_dim outputs), ``decoder``
    (z → mean or logits) and, for the Gaussian decoder, ``log_scale`` (data_dim,) initialized at 0.
    """

    data_dim: int
    latent_dim: int = 2
    widths: Tuple[int, ...] = (64, 64)
    likelihood: str = "gaussian"

    def __post_init__(self):
        check_positive_int(self.data_dim, "data_dim", "VAE")
        check_positive_int(self.latent_dim, "latent_dim", "VAE")
        object.__setattr__(self, "widths", check_widths(self.widths, "VAE"))
        check_choice(self.likelihood, "likelihood", "VAE", LIKELIHOODS)

    @property
    def encoder(self) -> MLPGenerator:
        return MLPGenerator(data_shape=(2 * self.latent_dim,), widths=self.widths)

    @property
    def decoder(self) -> MLPGenerator:
        return MLPGenerator(data_shape=(self.data_dim,), widths=self.widths)

    def init(self, key) -> dict:
        k_enc, k_dec = jax.random.split(key)
        params = {"encoder": self.encoder.init(k_enc, jnp.zeros((1, self.data_dim))),
                  "decoder": self.decoder.init(k_dec, jnp.zeros((1, self.latent_dim)))}
        if self.likelihood == "gaussian":
            params["log_scale"] = jnp.zeros((self.data_dim,))
        return params

    def init_players(self, key):
        """``Players(init(key), ())``, the game's ``sample_init``."""
        return single_player(self.init(key))

    def posterior(self, params, x):
        """(μ_λ(x), log σ_λ(x)), each (n, latent_dim)."""
        out = self.encoder.apply(params["encoder"], x)
        return out[..., :self.latent_dim], out[..., self.latent_dim:]

    def log_likelihood(self, params, x, z) -> jax.Array:
        """log p_θ(x|z), (n,) for x (n, data_dim) and z (n, latent_dim)."""
        out = self.decoder.apply(params["decoder"], z)
        if self.likelihood == "gaussian":
            return _diag_normal_log_prob(x, out, params["log_scale"])
        return -jnp.sum(_bernoulli_nll(out, x), axis=-1)

    def log_joint(self, params, x, z) -> jax.Array:
        """log p_θ(x, z) = log p_θ(x|z) + log N(z; 0, I), (n,)."""
        return self.log_likelihood(params, x, z) + _diag_normal_log_prob(z, 0.0, jnp.zeros(()))

    def noise(self, key, n: int) -> jax.Array:
        """n prior draws z ~ N(0, I), (n, latent_dim): the input of :meth:`sample`."""
        return jax.random.normal(key, (n, self.latent_dim))

    def sample(self, params, noise) -> jax.Array:
        """The decoder mean m_θ(z) for latents ``noise`` (n, latent_dim) (sigmoid of the logits for Bernoulli)."""
        out = self.decoder.apply(params["decoder"], noise)
        return jax.nn.sigmoid(out) if self.likelihood == "bernoulli" else out

    def elbo(self, params, x, key, *, estimator: str = "reparameterization", num_samples: int = 1,
             baseline: bool = True) -> jax.Array:
        """The K-sample ELBO estimate per example, (n,), whose gradient is the chosen estimator's.

        Its value is (1/K) Σ_k f(z_k) for both estimators; for ``"score_function"`` its gradient
        in λ is (1/K) Σ_k (f(z_k) − b_k) ∇_λ log q_λ(z_k|x), with the leave-one-out b_k when
        ``baseline`` (needs K >= 2), else b_k = 0.
        """
        check_choice(estimator, "estimator", "VAE.elbo", ESTIMATORS)
        num_samples = check_positive_int(num_samples, "num_samples", "VAE.elbo",
                                         minimum=2 if estimator == "score_function" and baseline else 1)
        mean, log_std = self.posterior(params, x)
        eps = jax.random.normal(key, (num_samples,) + mean.shape, mean.dtype)
        z = mean + jnp.exp(log_std) * eps                                    # (K, n, latent_dim)
        if estimator == "score_function":
            z = lax.stop_gradient(z)
        log_q = _diag_normal_log_prob(z, mean, log_std)                     # (K, n)
        log_p = jax.vmap(lambda zk: self.log_joint(params, x, zk))(z)       # (K, n)
        f = log_p - log_q
        if estimator == "reparameterization":
            return jnp.mean(f, axis=0)
        b = (jnp.sum(f, axis=0) - f) / (num_samples - 1) if baseline else 0.0
        surrogate = lax.stop_gradient(f - b) * log_q + log_p
        return jnp.mean(lax.stop_gradient(f) + surrogate - lax.stop_gradient(surrogate), axis=0)


def _bernoulli_nll(logits, x):
    """−[x log m + (1 − x) log(1 − m)], m = sigmoid(logits), element-wise, stable for large |logits|."""
    return jnp.logaddexp(0.0, logits) - x * logits


@dataclasses.dataclass(frozen=True)
class NegativeELBO:
    """The loss of :func:`vae_game`: −(1/B) Σ_x ELBO(x) on the step's minibatch."""

    model: VAE
    estimator: str
    num_samples: int
    baseline: bool

    def __call__(self, params, key, args, state):
        k_batch, k_z = jax.random.split(key)
        x = args(k_batch)
        return -jnp.mean(self.model.elbo(params.min, x, k_z, estimator=self.estimator,
                                         num_samples=self.num_samples, baseline=self.baseline))


def vae_game(model: VAE, data, *, batch_size: int, estimator: str = "reparameterization", num_samples: int = 1,
             baseline: bool = True) -> Game:
    """The VAE as a single-player game: minimize −ELBO on minibatches of ``data`` (n, data_dim).

    Args:
      model: a :class:`VAE`.
      data: training samples (n, data_dim), held as the game's ``args`` (a
        :func:`minimax.data.minibatches` sampler, a pytree with the data as its leaf).
      batch_size: examples per step, drawn without replacement.
      estimator, num_samples, baseline: see :meth:`VAE.elbo`.

    Train it with any rule, e.g. ``train.run(game, updates.simultaneous(optax.adam(1e-3)),
    game.sample_init(k0), k1, steps=...)``; sample with ``model.sample(params.min, model.noise(key, n))``.
    """
    if not isinstance(model, VAE):
        raise TypeError(f"vae_game: `model` must be a minimax.baselines.vae.VAE, got {type(model).__name__}")
    check_choice(estimator, "estimator", "vae_game", ESTIMATORS)
    num_samples = check_positive_int(num_samples, "num_samples", "vae_game",
                                     minimum=2 if estimator == "score_function" and baseline else 1)
    batches = data_batches(data, batch_size, model.data_dim, "vae_game")
    return Game(loss=NegativeELBO(model, estimator, num_samples, bool(baseline)), args=batches, name=f"vae_{estimator}",
                sample_init=model.init_players)


class GradientMoments(NamedTuple):
    """Moments of R independent draws of a gradient estimator of −ELBO in the encoder parameters λ."""

    mean: jax.Array      # (p,) the mean estimate, λ flattened
    variance: jax.Array  # (p,) per-coordinate variance over the draws (1/(R − 1))
    total: jax.Array     # Σ_j variance_j, the trace of the estimator's covariance
    draws: int


def gradient_variance(model: VAE, params, x, key, *, draws: int = 1000, num_samples: int = 2,
                      estimators: Sequence[str] = ESTIMATORS, baseline: bool = True) -> Dict[str, GradientMoments]:
    """The mean and variance of each estimator of ∇_λ(−(1/n) Σ_x ELBO(x)) on the same model and batch.

    For each estimator, ``draws`` = R gradients in the encoder parameters λ (where the two
    estimators differ; the decoder gradient ∇_θ log p_θ(x, z), z ~ q, has the same law under both)
    of the −ELBO of :meth:`VAE.elbo` on the fixed batch ``x`` (n, data_dim) with K =
    ``num_samples`` samples per example, each draw with its own key. Both estimators are
    unbiased, so their means agree up to the standard errors √(variance/R); the ratio of the
    ``total`` variances says how many more samples the noisier one needs for the same accuracy.
    """
    if not isinstance(model, VAE):
        raise TypeError(f"gradient_variance: `model` must be a VAE, got {type(model).__name__}")
    draws = check_positive_int(draws, "draws", "gradient_variance", minimum=2)
    for name in estimators:
        check_choice(name, "estimators", "gradient_variance", ESTIMATORS)
    x = jnp.asarray(x)
    if x.ndim != 2 or x.shape[1] != model.data_dim:
        raise ValueError(f"gradient_variance: `x` must be (n, {model.data_dim}), got shape {x.shape}")
    out = {}
    for i, name in enumerate(estimators):
        mean, var = _gradient_moments(model, params, x, jax.random.fold_in(key, i), estimator=name,
                                      num_samples=num_samples, baseline=bool(baseline), draws=draws)
        out[name] = GradientMoments(mean, var, jnp.sum(var), draws)
    return out


@functools.partial(jax.jit, static_argnames=("model", "estimator", "num_samples", "baseline", "draws"))
def _gradient_moments(model, params, x, key, *, estimator, num_samples, baseline, draws):
    """Mean and variance (1/(R − 1)) over R = ``draws`` independent estimates of ∇_λ(−mean ELBO), λ flattened.

    One draw at a time in a scan (memory O(p), not O(R p)); sums of g − g₀ around the first draw g₀,
    so the variance does not lose precision to a large mean.
    """
    def grad(k):
        def loss(encoder):
            return -jnp.mean(model.elbo(dict(params, encoder=encoder), x, k, estimator=estimator,
                                        num_samples=num_samples, baseline=baseline))
        return jax.flatten_util.ravel_pytree(jax.grad(loss)(params["encoder"]))[0]

    keys = jax.random.split(key, draws)
    first = grad(keys[0])

    def add(sums, k):
        d = grad(k) - first
        return (sums[0] + d, sums[1] + d * d), None

    (s, ss), _ = lax.scan(add, (jnp.zeros_like(first), jnp.zeros_like(first)), keys[1:])
    return first + s / draws, (ss - s * s / draws) / (draws - 1)
