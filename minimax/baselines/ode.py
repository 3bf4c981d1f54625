"""Fixed-step ODE integration in ``lax.scan`` and the straightness of sampled paths.

The samplers of the flow-matching and score-based baselines integrate dx/dt = v(x, t) from
t₀ to t₁ with N uniform steps h = (t₁ − t₀)/N:

* Euler:  x_{k+1} = x_k + h v(x_k, t_k)                                  (N evaluations of v)
* Heun:   x̃ = x_k + h v(x_k, t_k),
          x_{k+1} = x_k + (h/2) [v(x_k, t_k) + v(x̃, t_{k+1})]            (2N evaluations)

A fixed step count is what a vmapped sweep wants (an adaptive solver under ``vmap`` runs until
its slowest member) and what the "how many sampling steps" question asks about. Reference:
Süli & Mayers, "An introduction to numerical analysis", 2003, §12.

Straightness of a path x(t) with displacement Δ = x(t₁) − x(t₀) (:func:`straightness`):

* ``ratio`` = ‖Δ‖ / ∫‖ẋ‖dt ∈ [0, 1], 1 exactly for a straight path (the chord over the arc length);
* ``deviation`` S = (1/T) ∫ ‖Δ/T − ẋ(t)‖² dt >= 0, zero iff the velocity is constant, the
  straightness of Liu, Gong & Liu, "Flow straight and fast: learning to generate and transfer
  data with rectified flow", ICLR 2023; Euler's one-step error is ‖x(t₁) − x(t₀) − T ẋ(t₀)‖,
  so straight paths need few steps.

On a discretized path both use the step increments Δx_k = x_{k+1} − x_k (their velocities
Δx_k / h), averaged over the paths (the batch axis).
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from minimax.baselines.common import check_choice, check_positive_int

METHODS = ("euler", "heun")


def odeint(field: Callable, x0, *, steps, method: str = "euler", t0: float = 0.0, t1: float = 1.0,
           trajectory: bool = False):
    """Integrates dx/dt = ``field(x, t)`` from ``x0`` at ``t0`` to ``t1`` with ``steps`` uniform steps.

    Args:
      field: ``field(x, t) -> dx/dt`` with x shaped like ``x0`` and t a scalar.
      x0: the initial point(s), any shape (e.g. (n, d), a batch of paths).
      steps: N >= 1. It may be a traced integer when ``trajectory`` is False (a ``fori_loop``),
        so one compiled sampler serves every step count; the path needs a static N (a ``scan``).
      method: ``"euler"`` or ``"heun"`` (see the module docstring).
      trajectory: return the whole path, shaped (N + 1,) + x0.shape, instead of x(t₁).

    Jittable and vmappable; t₀ > t₁ integrates backwards in time.
    """
    if trajectory or not isinstance(steps, jax.core.Tracer):
        steps = check_positive_int(steps, "steps", "odeint")
    check_choice(method, "method", "odeint", METHODS)
    if not callable(field):
        raise TypeError(f"odeint: `field` must be callable (x, t) -> dx/dt, got {type(field).__name__}")
    x0 = jnp.asarray(x0)
    h = (t1 - t0) / jnp.asarray(steps, x0.dtype)

    def step(k, x):
        t = t0 + k * h
        v = field(x, t)
        if method == "euler":
            return x + h * v
        return x + 0.5 * h * (v + field(x + h * v, t + h))

    if not trajectory:
        return lax.fori_loop(0, steps, lambda k, x: step(k.astype(x0.dtype), x), x0)
    _, path = lax.scan(lambda x, k: (step(k, x),) * 2, x0, jnp.arange(steps, dtype=x0.dtype))
    return jnp.concatenate([x0[None], path])


class Straightness(NamedTuple):
    ratio: jax.Array         # mean over paths of ‖Δ‖ / path length (1: straight)
    deviation: jax.Array     # mean over paths of (1/N) Σ_k ‖Δ/T − Δx_k/h‖² (0: constant velocity)
    length: jax.Array        # mean path length Σ_k ‖Δx_k‖
    displacement: jax.Array  # mean ‖Δ‖


def straightness(path, t0: float = 0.0, t1: float = 1.0) -> Straightness:
    """Straightness of discretized paths ``path`` (N + 1, n, ...) on a uniform grid from t₀ to t₁.

    See the module docstring; the trailing axes of a point are flattened.
    """
    path = jnp.asarray(path)
    if path.ndim < 3 or path.shape[0] < 2:
        raise ValueError(f"straightness: `path` must be (N + 1, n, ...) with N >= 1 steps, got shape {path.shape}")
    path = path.reshape(path.shape[:2] + (-1,))
    total = t1 - t0
    h = total / (path.shape[0] - 1)
    increments = jnp.diff(path, axis=0)                        # (N, n, d)
    displacement = path[-1] - path[0]                          # (n, d)
    length = jnp.sum(jnp.linalg.norm(increments, axis=-1), axis=0)
    chord = jnp.linalg.norm(displacement, axis=-1)
    ratio = jnp.where(length > 0, chord / jnp.where(length > 0, length, 1.0), 1.0)
    deviation = jnp.mean(jnp.sum((displacement / total - increments / h) ** 2, axis=-1), axis=0)  # uniform grid
    return Straightness(jnp.mean(ratio), jnp.mean(deviation), jnp.mean(length), jnp.mean(chord))
