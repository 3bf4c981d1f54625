"""f-divergences as records: f, its convex conjugate f*, dom f*, output activation g_f, f′(1).

    D_f(P‖Q) = E_Q[f(p/q)] = sup_T E_P[T] − E_Q[f*(T)],   f*(t) = sup_u (t·u − f(u)),

with the supremum attained at T*(x) = f′(p(x)/q(x)). A critic's raw output v ∈ ℝ is mapped
into dom f* by g_f, T = g_f(v), so every critic gives a lower bound on D_f (the f-GAN game,
:func:`minimax.losses.distances.fgan_distance`). At P = Q the optimal critic is T ≡ f′(1).

Conjugates are taken over dom f = [0, ∞). Two deviations from the table of Nowozin et al.:
their Jensen–Shannon row lists f(u) = u log u − (u+1) log((1+u)/2), whose D_f is 2·JSD; here
``js`` is scaled by ½ so that D_f = JSD exactly (and ``js`` = weighted JS at π = ½). Their
Pearson conjugate t²/4 + t is the conjugate over u ∈ ℝ; over u >= 0 it is
max(0, 1 + t/2)² − 1, equal for t >= −2 (where the optimal critic 2(p/q − 1) lies) and
smaller below, which gives every critic a tighter bound.

Reference: Nowozin, Cseke, Tomioka, "f-GAN: training generative neural samplers using
variational divergence minimization", NeurIPS 2016.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Callable, Optional, Tuple

import jax
import jax.numpy as jnp
from jax.scipy.special import xlogy

_INF = math.inf
_NEWTON_STEPS = 10


@dataclasses.dataclass(frozen=True)
class FDivergence:
    """An f-divergence D_f(P‖Q) = E_Q[f(p/q)] with what the f-GAN needs.

    Attributes:
      name: registry name.
      f: the convex generator, f(u) for u >= 0 (element-wise).
      conjugate: f*(t) = sup_u (t·u − f(u)), element-wise on ``domain``.
      domain: (lo, hi), an open interval on which f* is finite and equal to ``conjugate``
        (the table's choice; e.g. |t| < ½ for TV, where f*(t) = t).
      activation: g_f, maps every v ∈ ℝ into ``domain``.
      f_prime_one: f′(1), the critic value T at P = Q (a subgradient where f has a kink).
      composed: v ↦ f*(g_f(v)) written stably, where composing the two overflows or loses
        precision; None when the plain composition is fine.
    """

    name: str
    f: Callable
    conjugate: Callable
    domain: Tuple[float, float]
    activation: Callable
    f_prime_one: float
    composed: Optional[Callable] = None

    def conjugate_activation(self, v):
        """f*(g_f(v)), element-wise."""
        return self.composed(v) if self.composed is not None else self.conjugate(self.activation(v))

    def variational_bound(self, real_out, fake_out):
        """E_P[g_f(v)] − E_Q[f*(g_f(v))] from critic outputs on P and Q samples (≤ D_f(P‖Q))."""
        return jnp.mean(self.activation(real_out)) - jnp.mean(self.conjugate_activation(fake_out))


def _log_softplus(x):
    """log(softplus(x)), finite (≈ x) where softplus(x) underflows."""
    small = x < -30.0
    return jnp.where(small, x, jnp.log(jax.nn.softplus(jnp.where(small, 0.0, x))))


@jax.custom_jvp
def _log_lambert_exp(s):
    """y = log W(e^s), the root of y + e^y = s (W: Lambert's principal branch), by Newton.

    h(y) = y + e^y − s is convex and increasing, and both starting points lie right of the
    root (h > 0), so the iterates decrease monotonically to it.
    """
    s = jnp.asarray(s, jnp.result_type(float))
    y = jnp.where(s > 1.0, jnp.log(jnp.maximum(s, 1.0)), s)
    for _ in range(_NEWTON_STEPS):
        ey = jnp.exp(y)
        y = y - (y + ey - s) / (1.0 + ey)
    return y


@_log_lambert_exp.defjvp
def _log_lambert_exp_jvp(primals, tangents):
    y = _log_lambert_exp(primals[0])
    return y, tangents[0] / (1.0 + jnp.exp(y))


def _jeffrey_conjugate(t):
    # f′(u) = log u + 1 − 1/u = t  ⇔  w = 1/u = W(e^{1−t});  f*(t) = 1/w + w + t − 2 = 1/w − log w − 1
    # (w + log w = 1 − t), the second form free of cancellation.
    y = _log_lambert_exp(1.0 - jnp.asarray(t))
    return jnp.exp(-y) - y - 1.0


def weighted_jensen_shannon(pi=0.25) -> FDivergence:
    """Weighted Jensen–Shannon, π ∈ (0, 1): π·KL(P‖M) + (1−π)·KL(Q‖M), M = πP + (1−π)Q.

        f(u) = π u log u − (1−π+πu) log(1−π+πu),  f*(t) = (1−π) log((1−π)/(1 − π e^{t/π})),
        dom f* = (−∞, −π log π),  g_f(v) = π(log σ(v) − log π),  f′(1) = 0.

    At π = ½ this is the Jensen–Shannon divergence JSD. ``pi`` may be traced.

    Reference: Nowozin, Cseke, Tomioka, "f-GAN", NeurIPS 2016.
    """
    if not isinstance(pi, jax.core.Tracer) and not 0.0 < float(pi) < 1.0:
        raise ValueError(f"weighted_jensen_shannon: need 0 < pi < 1, got {pi!r}")

    def f(u):
        m = 1.0 - pi + pi * u
        return pi * xlogy(u, u) - xlogy(m, m)

    return FDivergence(
        name="weighted_js",
        f=f,
        conjugate=lambda t: (1.0 - pi) * (jnp.log1p(-pi) - jnp.log1p(-pi * jnp.exp(t / pi))),
        domain=(-_INF, -pi * (jnp.log(pi) if isinstance(pi, jax.core.Tracer) else math.log(pi))),
        activation=lambda v: pi * (jax.nn.log_sigmoid(v) - jnp.log(pi)),
        f_prime_one=0.0,
        # e^{g_f(v)/π} = σ(v)/π, so 1 − π e^{t/π} = σ(−v).
        composed=lambda v: (1.0 - pi) * (jnp.log1p(-pi) + jax.nn.softplus(v)),
    )


def alpha_divergence(alpha=1.5) -> FDivergence:
    """α-divergence, α ∉ {0, 1} (a static Python number):

        f(u) = (u^α − 1 − α(u − 1)) / (α(α−1)),   f*(t) = ((1 + (α−1)t)^{α/(α−1)} − 1)/α.

    α > 1: dom f* = ℝ (the base is clipped at 0, where the supremum sits at u = 0), g_f(v) = v.
    α < 1: dom f* = (−∞, 1/(1−α)), g_f(v) = 1/(1−α) − softplus(−v). f′(1) = 0.
    α = 2 gives ½·Pearson χ², α = ½ gives 2·squared Hellinger, α → 1 KL, α → 0 reverse KL.

    Reference: Nowozin, Cseke, Tomioka, "f-GAN", NeurIPS 2016; Cichocki & Amari, "Families of
    alpha- beta- and gamma-divergences", Entropy 2010.
    """
    if isinstance(alpha, jax.core.Tracer):
        raise TypeError("alpha_divergence: `alpha` selects the conjugate's form and must be a Python number")
    a = float(alpha)
    if a in (0.0, 1.0) or not math.isfinite(a):
        raise ValueError(f"alpha_divergence: need a finite alpha not in {{0, 1}} (use 'reverse_kl' / 'kl'), got {alpha!r}")
    power = a / (a - 1.0)
    f = lambda u: (jnp.power(u, a) - 1.0 - a * (u - 1.0)) / (a * (a - 1.0))
    if a > 1.0:
        return FDivergence("alpha", f, lambda t: (jnp.power(jax.nn.relu(1.0 + (a - 1.0) * t), power) - 1.0) / a,
                           (-_INF, _INF), lambda v: v, 0.0)
    return FDivergence(
        "alpha", f, lambda t: (jnp.power(1.0 + (a - 1.0) * t, power) - 1.0) / a,
        (-_INF, 1.0 / (1.0 - a)), lambda v: 1.0 / (1.0 - a) - jax.nn.softplus(-v), 0.0,
        # 1 + (α−1)·g_f(v) = (1−α)·softplus(−v), raised to the power in log space.
        composed=lambda v: (jnp.exp(power * (math.log(1.0 - a) + _log_softplus(-v))) - 1.0) / a,
    )


_TABLE = (
    FDivergence("tv", lambda u: 0.5 * jnp.abs(u - 1.0), lambda t: t, (-0.5, 0.5),
                lambda v: 0.5 * jnp.tanh(v), 0.0),
    FDivergence("kl", lambda u: xlogy(u, u), lambda t: jnp.exp(t - 1.0), (-_INF, _INF), lambda v: v, 1.0),
    FDivergence("reverse_kl", lambda u: -jnp.log(u), lambda t: -1.0 - jnp.log(-t), (-_INF, 0.0),
                lambda v: -jnp.exp(-v), -1.0, composed=lambda v: v - 1.0),
    FDivergence("pearson", lambda u: jnp.square(u - 1.0), lambda t: jnp.square(jax.nn.relu(1.0 + 0.5 * t)) - 1.0,
                (-_INF, _INF), lambda v: v, 0.0),
    FDivergence("neyman", lambda u: jnp.square(1.0 - u) / u, lambda t: 2.0 - 2.0 * jnp.sqrt(1.0 - t), (-_INF, 1.0),
                lambda v: 1.0 - jnp.exp(v), 0.0, composed=lambda v: 2.0 - 2.0 * jnp.exp(0.5 * v)),
    FDivergence("hellinger", lambda u: jnp.square(jnp.sqrt(u) - 1.0), lambda t: t / (1.0 - t), (-_INF, 1.0),
                lambda v: 1.0 - jnp.exp(v), 0.0, composed=lambda v: jnp.expm1(-v)),
    FDivergence("jeffrey", lambda u: (u - 1.0) * jnp.log(u), _jeffrey_conjugate, (-_INF, _INF), lambda v: v, 0.0),
    dataclasses.replace(weighted_jensen_shannon(0.5), name="js"),
    weighted_jensen_shannon(),
    FDivergence("gan", lambda u: xlogy(u, u) - xlogy(u + 1.0, u + 1.0), lambda t: -jnp.log(-jnp.expm1(t)),
                (-_INF, 0.0), jax.nn.log_sigmoid, -math.log(2.0), composed=jax.nn.softplus),
    alpha_divergence(),
)

#: name -> FDivergence: the f-GAN table (``weighted_js`` at π = 0.25, ``alpha`` at α = 1.5;
#: other parameters through :func:`weighted_jensen_shannon` and :func:`alpha_divergence`).
FDIVERGENCES = {d.name: d for d in _TABLE}


def get_fdivergence(name: str) -> FDivergence:
    """The registered f-divergence ``name``; ValueError listing the known names otherwise."""
    if name not in FDIVERGENCES:
        raise ValueError(f"unknown f-divergence {name!r}; expected one of {sorted(FDIVERGENCES)}")
    return FDIVERGENCES[name]
