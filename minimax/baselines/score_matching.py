"""Denoising score matching over a continuum of noise levels, with ODE and annealed Langevin samplers.

Noising x̃ = x + σ ε, ε ~ N(0, I), turns the data distribution p into p_σ = p ∗ N(0, σ²I), whose
score ∇ log p_σ a network s_θ(x̃, σ) learns. Denoising score matching (Vincent, "A connection
between score matching and denoising autoencoders", Neural Computation 2011): for each σ

    E_{x, ε} ‖s(x̃, σ) − ∇_x̃ log N(x̃; x, σ²I)‖² = E_{x̃ ~ p_σ} ‖s(x̃, σ) − ∇ log p_σ(x̃)‖² + C(σ),

since E[(x − x̃)/σ² | x̃] = ∇ log p_σ(x̃) (Tweedie's formula), so the minimizer over all functions
is the true score of the noised distribution. With the weight λ(σ) = σ² of Song & Ermon
("Generative modeling by estimating gradients of the data distribution", NeurIPS 2019) and σ
log-uniform on [σ_min, σ_max] (the variance-exploding SDE of Song et al., "Score-based generative
modeling through stochastic differential equations", ICLR 2021), the loss is

    ℓ(θ) = E_{x, σ, ε} ‖σ s_θ(x + σε, σ) + ε‖²          (:func:`dsm_loss`).

The network is a denoiser with the preconditioning of Karras, Aittala, Aila & Laine ("Elucidating
the design space of diffusion-based generative models", NeurIPS 2022), turned into a score by
Tweedie's formula ∇ log p_σ(x) = (E[x₀ | x] − x)/σ²:

    D_θ(x, σ) = c_skip x + c_out F_θ(c_in x, c(σ)),   s_θ(x, σ) = (D_θ(x, σ) − x) / σ²,
    c_skip = σ_d²/(σ² + σ_d²),  c_out = σ σ_d/√(σ² + σ_d²),  c_in = 1/√(σ² + σ_d²),

with c(σ) = log(σ/σ_min) / log(σ_max/σ_min) ∈ [0, 1], σ_d = ``sigma_data`` (the data's standard
deviation per coordinate) and F_θ a :class:`~minimax.baselines.common.ConditionedMLP`. The
network's input and its regression target (x₀ − c_skip x̃)/c_out have unit scale at every σ, so the
small-σ score ≈ −ε/σ, which a plain network would have to amplify by 1/σ, needs no amplification.
In F_θ the loss reads (σ_d²/(σ² + σ_d²)) ‖F_θ − (x₀ − c_skip x̃)/c_out‖²: the same minimizer.

Samplers, from x ~ N(0, σ_max² I) ≈ p_{σ_max} (σ_max about the largest distance between data points):

* :func:`probability_flow` (:meth:`ScoreModel.sample`), the probability-flow ODE of the VE SDE (Song et al. 2021),
  dx/dσ = −σ ∇ log p_σ(x), integrated from σ_max to σ_min on the geometric schedule
  σ(t) = σ_max^{1−t} σ_min^t, t ∈ [0, 1], i.e. dx/dt = σ(t)² log(σ_max/σ_min) s_θ(x, σ(t))
  (:func:`minimax.baselines.ode.odeint`), then one denoising step x + σ_min² s_θ(x, σ_min)
  (Tweedie). Deterministic: a fixed latent gives a fixed sample.
* :func:`annealed_langevin` (:meth:`ScoreModel.langevin`), annealed Langevin dynamics (Song & Ermon 2019, Algorithm 1):
  for σ_1 = σ_max > ⋯ > σ_L = σ_min geometric, T steps x ← x + (α_i/2) s_θ(x, σ_i) + √α_i z with
  α_i = η σ_i²/σ_L², then the same denoising step.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Callable, Tuple

import jax
import jax.numpy as jnp
from jax import lax

from minimax.baselines import ode
from minimax.baselines.common import (ConditionedMLP, check_positive_float, check_positive_int, check_widths,
                                      data_batches, single_player)
from minimax.game import Game


def sample_sigmas(key, n: int, sigma_min: float, sigma_max: float) -> jax.Array:
    """n noise levels, log-uniform on [σ_min, σ_max] (all σ_min when the two are equal)."""
    u = jax.random.uniform(key, (n,))
    return sigma_min * (sigma_max / sigma_min) ** u


def dsm_loss(score_fn: Callable, x, key, *, sigma_min: float, sigma_max: float) -> jax.Array:
    """ℓ = (1/n) Σ_i ‖σ_i s(x_i + σ_i ε_i, σ_i) + ε_i‖², σ_i log-uniform on [σ_min, σ_max], ε_i ~ N(0, I).

    ``score_fn(x̃ (n, d), σ (n,)) -> (n, d)``; the σ²-weighted denoising score matching loss of
    the module docstring, minimized over all functions by the score of p_σ. Equal σ_min and
    σ_max give the single-level loss.
    """
    x = jnp.asarray(x)
    k_sigma, k_eps = jax.random.split(key)
    sigma = sample_sigmas(k_sigma, x.shape[0], sigma_min, sigma_max)
    eps = jax.random.normal(k_eps, x.shape, x.dtype)
    residual = sigma[:, None] * score_fn(x + sigma[:, None] * eps, sigma) + eps
    return jnp.mean(jnp.sum(residual**2, axis=-1))


def gaussian_mixture_score(x, centers, sigma_data: float, sigma_noise) -> jax.Array:
    """∇ log p_σ(x) for an equal-weight mixture of N(c_k, s²I) noised by N(0, σ²I), x (n, d) -> (n, d).

    p_σ = (1/K) Σ_k N(c_k, (s² + σ²) I), so ∇ log p_σ(x) = Σ_k r_k(x) (c_k − x) / (s² + σ²) with
    r_k = softmax_k(−‖x − c_k‖² / (2(s² + σ²))). ``sigma_noise`` is a scalar or (n,).
    """
    x, centers = jnp.asarray(x), jnp.asarray(centers)
    var = sigma_data**2 + jnp.broadcast_to(jnp.asarray(sigma_noise, x.dtype), x.shape[:1]) ** 2
    sq = jnp.sum((x[:, None, :] - centers[None]) ** 2, axis=-1)                # (n, K)
    r = jax.nn.softmax(-sq / (2.0 * var[:, None]), axis=-1)
    return (r @ centers - x) / var[:, None]


@dataclasses.dataclass(frozen=True)
class ScoreModel:
    """A noise-conditional score network on flat data (n, ``data_dim``), σ ∈ [``sigma_min``, ``sigma_max``];
    ``sigma_data``: the data's standard deviation per coordinate (the input scaling)."""

    data_dim: int
    widths: Tuple[int, ...] = (128, 128)
    sigma_min: float = 0.01
    sigma_max: float = 4.0
    sigma_data: float = 1.0

    def __post_init__(self):
        check_positive_int(self.data_dim, "data_dim", "ScoreModel")
        object.__setattr__(self, "widths", check_widths(self.widths, "ScoreModel"))
        check_positive_float(self.sigma_min, "sigma_min", "ScoreModel")
        check_positive_float(self.sigma_max, "sigma_max", "ScoreModel")
        check_positive_float(self.sigma_data, "sigma_data", "ScoreModel")
        if self.sigma_max <= self.sigma_min:
            raise ValueError(f"ScoreModel: need sigma_max > sigma_min, got {self.sigma_max} and {self.sigma_min}")

    @property
    def net(self) -> ConditionedMLP:
        return ConditionedMLP(self.data_dim, self.widths)

    def init(self, key) -> dict:
        return self.net.init(key, jnp.zeros((1, self.data_dim)), jnp.zeros((1,)))

    def init_players(self, key):
        """``Players(init(key), ())``, the game's ``sample_init``."""
        return single_player(self.init(key))

    def score(self, params, x, sigma) -> jax.Array:
        """s_θ(x, σ) = (D_θ(x, σ) − x)/σ² (module docstring), x (n, d), σ a scalar or (n,)."""
        sigma = jnp.broadcast_to(jnp.asarray(sigma, x.dtype), x.shape[:1])[:, None]
        var = sigma**2 + self.sigma_data**2
        c = jnp.log(sigma[:, 0] / self.sigma_min) / math.log(self.sigma_max / self.sigma_min)
        out = self.net.apply(params, x / jnp.sqrt(var), c)
        return -x / var + (self.sigma_data / (sigma * jnp.sqrt(var))) * out  # (c_skip x + c_out F − x)/σ²

    def noise(self, key, n: int) -> jax.Array:
        """n standard normal draws (n, data_dim); the samplers start from σ_max times them."""
        return jax.random.normal(key, (n, self.data_dim))

    def _score_fn(self, params):
        return lambda x, sigma: self.score(params, x, sigma)

    def sample(self, params, noise, *, steps: int = 64, method: str = "heun", trajectory: bool = False):
        """:func:`probability_flow` with the model's score from ``noise`` (standard normal draws)."""
        return probability_flow(self._score_fn(params), noise, sigma_min=self.sigma_min, sigma_max=self.sigma_max,
                                steps=steps, method=method, trajectory=trajectory)

    def langevin(self, params, noise, key, *, levels: int = 10, steps_per_level: int = 20,
                 step_size: float = 2e-5) -> jax.Array:
        """:func:`annealed_langevin` with the model's score from ``noise`` (standard normal draws)."""
        return annealed_langevin(self._score_fn(params), noise, key, sigma_min=self.sigma_min,
                                 sigma_max=self.sigma_max, levels=levels, steps_per_level=steps_per_level,
                                 step_size=step_size)


def _denoise(score_fn, x, sigma_min):
    """Tweedie's estimate E[x₀ | x] = x + σ_min² ∇ log p_{σ_min}(x)."""
    return x + sigma_min**2 * score_fn(x, jnp.full(x.shape[:1], sigma_min, x.dtype))


def probability_flow(score_fn: Callable, noise, *, sigma_min: float, sigma_max: float, steps: int = 64,
                     method: str = "heun", trajectory: bool = False):
    """Samples by the probability-flow ODE of the VE SDE, from x = σ_max · ``noise`` down to σ_min.

    dx/dt = σ(t)² log(σ_max/σ_min) s(x, σ(t)) with σ(t) = σ_max^{1−t} σ_min^t, ``steps`` steps of
    ``method`` (:func:`minimax.baselines.ode.odeint`), then Tweedie's denoising step
    x + σ_min² s(x, σ_min). ``score_fn(x (n, d), σ (n,)) -> (n, d)``. With ``trajectory`` returns
    the path (steps + 1, n, d) before the denoising step. Deterministic in ``noise``.
    """
    log_ratio = math.log(sigma_max / sigma_min)

    def field(x, t):
        sigma = sigma_max * jnp.exp(-log_ratio * t)
        return sigma**2 * log_ratio * score_fn(x, jnp.full(x.shape[:1], sigma, x.dtype))

    out = ode.odeint(field, sigma_max * noise, steps=steps, method=method, trajectory=trajectory)
    return out if trajectory else _denoise(score_fn, out, sigma_min)


def annealed_langevin(score_fn: Callable, noise, key, *, sigma_min: float, sigma_max: float, levels: int = 10,
                      steps_per_level: int = 20, step_size: float = 2e-5) -> jax.Array:
    """Annealed Langevin dynamics (Song & Ermon 2019, Algorithm 1) from x = σ_max · ``noise``.

    For L = ``levels`` geometric σ_1 = σ_max > ⋯ > σ_L = σ_min, T = ``steps_per_level`` steps
    x ← x + (α_i/2) s(x, σ_i) + √α_i z, z ~ N(0, I), with α_i = η σ_i²/σ_L² (η = ``step_size``),
    then Tweedie's denoising step.
    """
    levels = check_positive_int(levels, "levels", "annealed_langevin", minimum=2)
    steps_per_level = check_positive_int(steps_per_level, "steps_per_level", "annealed_langevin")
    check_positive_float(step_size, "step_size", "annealed_langevin")
    sigmas = sigma_max * (sigma_min / sigma_max) ** jnp.linspace(0.0, 1.0, levels)

    def level(x, inputs):
        sigma, k = inputs
        alpha = step_size * (sigma / sigma_min) ** 2
        sig = jnp.full(x.shape[:1], sigma, x.dtype)

        def step(x, k):
            z = jax.random.normal(k, x.shape, x.dtype)
            return x + 0.5 * alpha * score_fn(x, sig) + jnp.sqrt(alpha) * z, None
        return lax.scan(step, x, jax.random.split(k, steps_per_level))[0], None

    x, _ = lax.scan(level, sigma_max * noise, (sigmas, jax.random.split(key, levels)))
    return _denoise(score_fn, x, sigma_min)


@dataclasses.dataclass(frozen=True)
class DenoisingScoreMatching:
    """The loss of :func:`score_matching_game`: :func:`dsm_loss` of the model's score on the step's minibatch."""

    model: ScoreModel

    def __call__(self, params, key, args, state):
        k_batch, k_loss = jax.random.split(key)
        m = self.model
        return dsm_loss(lambda x, s: m.score(params.min, x, s), args(k_batch), k_loss, sigma_min=m.sigma_min,
                        sigma_max=m.sigma_max)


def score_matching_game(model: ScoreModel, data, *, batch_size: int) -> Game:
    """Denoising score matching of a :class:`ScoreModel` on minibatches of ``data`` (n, data_dim).

    A single-player game; the data are its ``args`` (a :func:`minimax.data.minibatches`
    sampler). Sample with ``model.sample(params.min, model.noise(key, n), steps=...)`` or
    ``model.langevin(...)``.
    """
    if not isinstance(model, ScoreModel):
        raise TypeError(f"score_matching_game: `model` must be a ScoreModel, got {type(model).__name__}")
    batches = data_batches(data, batch_size, model.data_dim, "score_matching_game")
    return Game(loss=DenoisingScoreMatching(model), args=batches, name="score_matching",
                sample_init=model.init_players)

