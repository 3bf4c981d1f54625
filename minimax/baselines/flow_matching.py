"""Conditional flow matching, with independent or optimal-transport pairing of minibatches.

A coupling π of a source x₀ ~ ξ (default N(0, I)) and the data x₁ ~ ν, and straight lines
x_t = (1 − t) x₀ + t x₁, define a probability path p_t whose marginal velocity
u_t(x) = E[x₁ − x₀ | x_t = x] transports ξ to ν along dx/dt = u_t(x). Flow matching regresses a
network v_θ(x, t) onto it through the conditional target (Lipman, Chen, Ben-Hamu, Nickel & Le,
"Flow matching for generative modeling", ICLR 2023; Liu, Gong & Liu, rectified flow, ICLR 2023):

    ℓ(θ) = E_{t ~ U[0,1], (x₀, x₁) ~ π} ‖v_θ(x_t, t) − (x₁ − x₀)‖²,

(:func:`cfm_loss`), whose minimizer over all functions is u_t (the conditional expectation), with the same gradient
as the intractable E‖v_θ − u_t‖². The pairing of each minibatch of B source and B data points:

* ``"independent"``: π = ξ ⊗ ν, the batch order as drawn (I-CFM; Lipman et al. 2023 with σ_min = 0);
* ``"exact"``: the optimal assignment σ = argmin Σ_i ‖x₁ᵢ − x₀σ(i)‖² of the minibatch
  (:func:`minimax.ot.assignment`), a minibatch OT coupling: OT-CFM (Tong, Fatras, Malkin, Huguet,
  Zhang, Rector-Brooks, Wolf & Bengio, "Improving and generalizing flow-based generative models
  with minibatch optimal transport", TMLR 2024; Pooladian, Ben-Hamu, Domingo-Enrich, Amos,
  Lipman & Chen, "Multisample flow matching: straightening flows with minibatch couplings",
  ICML 2023);
* ``"sinkhorn"``: for each x₁ᵢ a source point drawn from row i of the entropic plan
  (:func:`minimax.ot.sinkhorn`, ε relative to the mean cost, a fixed iteration count).

OT pairing makes the paths of the learned ODE nearly straight (in the limit of large batches the
flow is the Monge map; crossing lines are what curve u_t), so few Euler steps suffice
(:func:`minimax.baselines.ode.straightness`). The source is fresh N(0, I) noise each step, or
a fixed set of points ẑ (``source=``): the empirical-risk setting of the memorization studies.

Sampling (:meth:`FlowMatchingModel.sample`): x₁ = x₀ + ∫₀¹ v_θ(x_t, t) dt by
:func:`minimax.baselines.ode.odeint`.

Closed form for tests (:func:`gaussian_marginal_velocity`): for ξ = N(0, I) and ν = N(μ, s²I)
independent, x_t ~ N(tμ, v_t I) with v_t = (1 − t)² + t²s², Cov(x₁ − x₀, x_t) = (ts² − (1 − t)) I,
so u_t(x) = μ + (ts² − (1 − t)) / v_t · (x − tμ).
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Optional, Tuple

import jax
import jax.numpy as jnp

from minimax.baselines import ode
from minimax.baselines.common import (ConditionedMLP, check_choice, check_positive_float, check_positive_int,
                                      check_widths, data_batches, single_player)
from minimax.game import Game

COUPLINGS = ("independent", "exact", "sinkhorn")


def pair_sources(x0, x1, *, coupling: str, key=None, epsilon: float = 0.05, iterations: int = 50) -> jax.Array:
    """x₀ reordered (or resampled) so that row i is the source point paired with data point x₁ᵢ.

    ``"independent"`` returns x₀ as is; ``"exact"`` x₀[σ] with σ the optimal assignment of x₁ to
    x₀ (equal sizes); ``"sinkhorn"`` one draw per row of the entropic plan between x₁ and x₀
    (``key`` required; ε relative to the mean squared distance, ``iterations`` Sinkhorn steps).
    Jittable and vmappable; no gradient flows through the pairing.
    """
    check_choice(coupling, "coupling", "pair_sources", COUPLINGS)
    if coupling == "independent":
        return x0
    from minimax import ot  # ott-jax is imported only when a coupling is asked for

    x0s, x1s = jax.lax.stop_gradient(x0), jax.lax.stop_gradient(x1)
    if coupling == "exact":
        return x0[ot.assignment(x1s, x0s).perm]
    if key is None:
        raise ValueError("pair_sources: coupling='sinkhorn' needs a PRNG `key` to draw the pairs")
    plan = ot.sinkhorn(x1s, x0s, epsilon=epsilon, relative_epsilon=True, iterations=iterations).plan
    return ot.regression_pairs(plan.T, x0, method="sample", key=key)[0]


def cfm_loss(velocity_fn: Callable, x0, x1, t) -> jax.Array:
    """(1/n) Σ_i ‖v(x_tᵢ, tᵢ) − (x₁ᵢ − x₀ᵢ)‖² with x_tᵢ = (1 − tᵢ) x₀ᵢ + tᵢ x₁ᵢ, for paired rows x₀, x₁ (n, d), t (n,).

    ``velocity_fn(x (n, d), t (n,)) -> (n, d)``; minimized over all functions by the marginal
    velocity u_t of the coupling the pairs are drawn from.
    """
    xt = (1.0 - t[:, None]) * x0 + t[:, None] * x1
    return jnp.mean(jnp.sum((velocity_fn(xt, t) - (x1 - x0)) ** 2, axis=-1))


def gaussian_marginal_velocity(x, t, mean, scale) -> jax.Array:
    """u_t(x) of the straight-line independent coupling of N(0, I) and N(μ, s² I).

    μ = ``mean``, s = ``scale``; the closed form is in the module docstring."""
    x, mean = jnp.asarray(x), jnp.asarray(mean)
    v = (1.0 - t) ** 2 + (t * scale) ** 2
    return mean + (t * scale**2 - (1.0 - t)) / v * (x - t * mean)


@dataclasses.dataclass(frozen=True)
class FlowMatchingModel:
    """A time-dependent vector field v_θ(x, t) on flat data (n, ``data_dim``) (a ConditionedMLP)."""

    data_dim: int
    widths: Tuple[int, ...] = (128, 128)

    def __post_init__(self):
        check_positive_int(self.data_dim, "data_dim", "FlowMatchingModel")
        object.__setattr__(self, "widths", check_widths(self.widths, "FlowMatchingModel"))

    @property
    def net(self) -> ConditionedMLP:
        return ConditionedMLP(self.data_dim, self.widths)

    def init(self, key) -> dict:
        return self.net.init(key, jnp.zeros((1, self.data_dim)), jnp.zeros((1,)))

    def init_players(self, key):
        """``Players(init(key), ())``, the game's ``sample_init``."""
        return single_player(self.init(key))

    def velocity(self, params, x, t) -> jax.Array:
        """v_θ(x, t), x (n, d), t a scalar or (n,)."""
        return self.net.apply(params, x, t)

    def noise(self, key, n: int) -> jax.Array:
        """n source draws x₀ ~ N(0, I), (n, data_dim)."""
        return jax.random.normal(key, (n, self.data_dim))

    def sample(self, params, noise, *, steps: int = 64, method: str = "euler", trajectory: bool = False):
        """x₁ from x₀ = ``noise`` by ``steps`` steps of ``method`` (or the path (steps + 1, n, d))."""
        return ode.odeint(lambda x, t: self.velocity(params, x, t), noise, steps=steps, method=method,
                          trajectory=trajectory)


@dataclasses.dataclass(frozen=True)
class ConditionalFlowMatching:
    """The loss of :func:`flow_matching_game` on the step's minibatch; args = (data batches, source batches or None)."""

    model: FlowMatchingModel
    coupling: str
    epsilon: float
    iterations: int

    def __call__(self, params, key, args, state):
        data, source = args
        k_data, k_source, k_pair, k_t = jax.random.split(key, 4)
        x1 = data(k_data)
        x0 = self.model.noise(k_source, x1.shape[0]) if source is None else source(k_source)
        x0 = pair_sources(x0, x1, coupling=self.coupling, key=k_pair, epsilon=self.epsilon,
                          iterations=self.iterations)
        t = jax.random.uniform(k_t, x1.shape[:1], x1.dtype)
        return cfm_loss(lambda x, t: self.model.velocity(params.min, x, t), x0, x1, t)


def flow_matching_game(model: FlowMatchingModel, data, *, batch_size: int, coupling: str = "independent",
                       source: Optional[jax.Array] = None, epsilon: float = 0.05, iterations: int = 50) -> Game:
    """Conditional flow matching of ``model`` on minibatches of ``data`` (n, data_dim), a single-player game.

    Args:
      model: a :class:`FlowMatchingModel`.
      data: training samples (n, data_dim); with ``source`` (m, data_dim), a fixed set of
        source points ẑ (minibatches of it are paired with the data's), else fresh N(0, I).
        Both are the game's ``args`` (:func:`minimax.data.minibatches` samplers).
      batch_size: pairs per step.
      coupling: ``"independent"`` (CFM), ``"exact"`` or ``"sinkhorn"`` (OT-CFM); see :func:`pair_sources`.
      epsilon, iterations: the Sinkhorn options.
    """
    if not isinstance(model, FlowMatchingModel):
        raise TypeError(f"flow_matching_game: `model` must be a FlowMatchingModel, got {type(model).__name__}")
    check_choice(coupling, "coupling", "flow_matching_game", COUPLINGS)
    check_positive_float(epsilon, "epsilon", "flow_matching_game")
    iterations = check_positive_int(iterations, "iterations", "flow_matching_game")
    batches = data_batches(data, batch_size, model.data_dim, "flow_matching_game")
    sources = None if source is None else data_batches(source, batch_size, model.data_dim, "flow_matching_game",
                                                       "source")
    name = "flow_matching" if coupling == "independent" else f"ot_flow_matching_{coupling}"
    return Game(loss=ConditionalFlowMatching(model, coupling, float(epsilon), iterations), args=(batches, sources),
                name=name, sample_init=model.init_players)
