"""Toy games with known equilibria, as data (:class:`minimax.game.Game` records).

Each factory returns a Game with its loss, its equilibrium p*, a sampler of initial
points and, where the game has one, the projection onto its constraint set. Their numbers
(the bilinear matrix, the quadratic's coefficients, the translation GAN's data mean) are
``args`` leaves, so one compiled program serves every instance and a sweep can vmap over
them; their losses are module-level functions or frozen dataclasses, equal across
instances, so a jitted function of a game does not retrace for a new instance.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import jax
import jax.numpy as jnp

from minimax.game import Game, Players
from minimax.losses import linear, logistic
from minimax.updates.projection import box, on_max_player


@dataclasses.dataclass(frozen=True)
class UniformInit:
    """Initial points with both players uniform in [−radius, radius] (shapes of θ and w)."""

    shape_min: tuple = ()
    shape_max: tuple = ()
    radius: float = 1.0

    def __call__(self, key):
        k1, k2 = jax.random.split(key)
        r = self.radius
        return Players(jax.random.uniform(k1, self.shape_min, minval=-r, maxval=r),
                       jax.random.uniform(k2, self.shape_max, minval=-r, maxval=r))


def _scalar_bilinear_loss(p, key, args, state):
    return p.min * p.max


def _matrix_bilinear_loss(p, key, A, state):
    return p.min @ A @ p.max


def bilinear(A=None) -> Game:
    """L(x, y) = xᵀAy (scalar x·y when ``A`` is None); p* = 0.

    F = (Ay, −Aᵀx) is a rotation field: ∂F has eigenvalues ±iσ_j(A), so GDA's
    linearized map has spectral radius √(1 + η²σ_max²) > 1 and EG's
    √(1 − η²σ² + η⁴σ⁴) < 1 for ησ < 1.
    """
    if A is None:
        loss, n, m = _scalar_bilinear_loss, (), ()
    else:
        A = jnp.asarray(A, jnp.float32)
        if A.ndim != 2:
            raise ValueError(f"bilinear: `A` must be a 2-D matrix, got shape {A.shape}")
        loss, n, m = _matrix_bilinear_loss, (A.shape[0],), (A.shape[1],)
    return Game(loss=loss, args=A, name="bilinear",
                equilibrium=Players(jnp.zeros(n), jnp.zeros(m)),
                sample_init=UniformInit(n, m))


def rotation_spectral_radius(method: str, h, *, s=1.0, tau=1.0, weight=1.0, sync_period: int = 5, alpha=0.5,
                             unroll_steps: int = 5):
    """Closed-form spectral radius of a rule's linearized map on a rotation field.

    For F(p) = s·[[0, −1], [1, 0]] p (the bilinear game x·y, and the Dirac GAN at its
    equilibrium) with step η and Λ_τ (inner = ``timescaled(sgd(η), τ)``), the rules see the
    eigenvalues ±i·h, h = ηs/√τ:

    * "gda" √(1 + h²); "eg" √(1 − h² + h⁴); "alt_gda" 1 (for h < 2: the map has determinant 1
      and complex eigenvalues on the unit circle);
    * "cgd" 1/√(1 + h²): the map is [[1, −a], [b, 1]]/(1 + ab) with ab = h² (a, b the players'
      steps times s);
    * "unrolled" with k = ``unroll_steps`` critic steps: the map [[1 − 2kh², −a], [b, 1]] has
      trace 2 − 2kh² and determinant 1 − (2k − 1)h², so ρ = √(1 − (2k − 1)h²) while kh <= 1 and
      |1 − kh² ± h√(k²h² − 1)| beyond (k = 0 is GDA);
    * per *cycle* of k = ``sync_period`` steps, α = ``alpha`` (the map φ ↦ (I + α(T^k − I))φ):
      "lookahead" (around GDA, T's eigenvalues 1 ± ih) |1 + α((1 + ih)^k − 1)|, "lookahead_eg"
      (around EG, eigenvalues 1 − h² ∓ ih) |1 + α((1 − h² − ih)^k − 1)|.

    The adjusted fields see s and τ apart (their extra term is s²p, JᵀJ = s²I), so these take
    the slope ``s`` and ``tau``: with a = ηs/τ, b = ηs the players' steps times s,
    "hgd" max(|1 − as|, |1 − bs|); "conopt" and "sga" (weight γ or λ = ``weight``; SGA's alignment
    keeps λ > 0 on a rotation) the eigenvalues of [[1 − γas, −a], [b, 1 − γbs]], which for τ = 1
    are 1 − γηs² ± iηs, ρ = √((1 − γηs²)² + η²s²).

    The defaults of ``weight``, ``sync_period``, ``alpha`` and ``unroll_steps`` are the registry's
    (:data:`minimax.updates.RULES`). None for other rules: ACGD (its steps depend on its
    state), the anchored EAG/FEG (their map changes with k; they converge at a sublinear rate),
    FTR (undefined: the critic's Hessian vanishes on a rotation), OGDA (see the tests).
    """
    h = jnp.asarray(h)
    k = unroll_steps
    real_root = h * jnp.sqrt(jnp.maximum(k**2 * h**2 - 1, 0.0))
    unrolled = jnp.where(k * h <= 1, jnp.sqrt(1 - (2 * k - 1) * h**2),
                         jnp.maximum(jnp.abs(1 - k * h**2 + real_root), jnp.abs(1 - k * h**2 - real_root)))
    cycle = lambda eig: jnp.abs(1 + alpha * (eig**sync_period - 1))
    a, b = h / jnp.sqrt(tau), h * jnp.sqrt(tau)  # η_θ s and η_w s, since ηs = h√τ
    trace, det = 2 - weight * (a + b) * s, (1 - weight * a * s) * (1 - weight * b * s) + a * b
    root = jnp.sqrt(trace**2 / 4 - det + 0j)
    adjusted = jnp.maximum(jnp.abs(trace / 2 + root), jnp.abs(trace / 2 - root))
    return {"gda": jnp.sqrt(1 + h**2), "eg": jnp.sqrt(1 - h**2 + h**4), "alt_gda": jnp.where(h < 2, 1.0, jnp.nan),
            "cgd": 1 / jnp.sqrt(1 + h**2), "unrolled": unrolled, "lookahead": cycle(1 + 1j * h),
            "lookahead_eg": cycle(1 - h**2 - 1j * h), "hgd": jnp.maximum(jnp.abs(1 - a * s), jnp.abs(1 - b * s)),
            "conopt": adjusted, "sga": adjusted}.get(method)


def quadratic(a=2.0, b=2.0, c=1.0) -> Game:
    """L(x, y) = −(a/2)x² + b·xy − (c/2)y², with a, c > 0 and b² > ac.

    The origin is a strict local minimax point (∂²_yy L = −c < 0 and the Schur
    complement ∂²_xx L − ∂²_xy L (∂²_yy L)⁻¹ ∂²_yx L = b²/c − a > 0) but not a local
    Nash point (∂²_xx L = −a < 0: x alone would move away). ∂F = [[−a, b], [−b, c]];
    the two-timescale flow ṗ = −Λ_τ F(p) is stable iff τ > a/c, and discrete τ-GDA
    needs a τ above that, while τ-EG is already stable at and somewhat below it.

    Reference: Jin, Netrapalli, Jordan, ICML 2020; Chae, Kim, Kim, ICLR 2024.
    """
    if not (a > 0 and c > 0 and b * b > a * c):
        raise ValueError(f"quadratic: need a > 0, c > 0 and b² > ac for a local minimax point, got a={a}, b={b}, c={c}")
    args = {k: jnp.asarray(v, jnp.float32) for k, v in (("a", a), ("b", b), ("c", c))}
    return Game(loss=_quadratic_loss, args=args, name="quadratic", equilibrium=Players(jnp.zeros(()), jnp.zeros(())),
                sample_init=UniformInit())


def _quadratic_loss(p, key, args, state):
    return -0.5 * args["a"] * p.min**2 + args["b"] * p.min * p.max - 0.5 * args["c"] * p.max**2


#: The Dirac GAN's distances: critic loss l and whether the critic is clipped to |w| <= 1.
DIRAC_DISTANCES = {
    "js": (logistic, False),
    "wasserstein": (linear, True),
    "zero_infinity": (linear, False),
}


@dataclasses.dataclass(frozen=True)
class DiracLoss:
    """L(θ, w) = −l(f_w(0)) − l(−f_w(θ)) with the linear critic f_w(x) = w·x."""

    l: Callable

    def __call__(self, p, key, args, state):
        critic = lambda w, x: jnp.sum(w * x)
        return -self.l(critic(p.max, 0.0 * p.min)) - self.l(-critic(p.max, p.min))


def dirac_gan(distance: str = "zero_infinity") -> Game:
    """The Dirac GAN: data ν = δ₀, model μ_θ = δ_θ, linear critic f_w(x) = w·x.

        L(θ, w) = −l(f_w(0)) − l(−f_w(θ)) = −l(0) − l(−wθ),  min over θ, max over w,

    with l the distance's loss (Jensen–Shannon: log(1 + e^{−t}); Wasserstein and
    zero-infinity: −t, Wasserstein with |w| <= 1). Equilibrium p* = (0, 0). At p*,
    ∂F = s·[[0, −1], [1, 0]] with s = 1 (Wasserstein, zero-infinity) or s = 1/2 (JS).

    Reference: Mescheder, Geiger, Nowozin, "Which training methods for GANs do
    actually converge?", ICML 2018.
    """
    if distance not in DIRAC_DISTANCES:
        raise ValueError(f"dirac_gan: unknown distance {distance!r}; expected one of {sorted(DIRAC_DISTANCES)}")
    l, clipped = DIRAC_DISTANCES[distance]
    return Game(loss=DiracLoss(l), name=f"dirac_{distance}", equilibrium=Players(jnp.zeros(()), jnp.zeros(())),
                sample_init=UniformInit(), projection=on_max_player(box(-1.0, 1.0)) if clipped else None)


def translation_gan(data_mean=6.0, theta0=3.0, batch_size=64) -> Game:
    """1-D translation GAN: generator g(z, θ) = z + θ, z ~ N(0, 1), data x ~ N(data_mean, 1),
    logistic discriminator D(x) = σ(a·x + b), Jensen–Shannon loss on fresh samples:

        L(θ, (a, b)) = −mean l(a·x_i + b) − mean l(−(a·(z_j + θ) + b)),  x, z drawn from ``key``.

    Equilibrium θ* = data_mean, (a, b) = (0, 0) (D ≡ 1/2). Initial points start the
    generator at θ₀ = ``theta0`` with a small random critic.

    Reference: Prince, "Understanding Deep Learning", 2023, §15.1 (the 1-D example).
    """
    if batch_size < 1:
        raise ValueError(f"translation_gan: `batch_size` must be >= 1, got {batch_size}")

    mean = jnp.asarray(data_mean, jnp.float32)
    return Game(loss=TranslationLoss(batch_size), args=mean, name="translation",
                equilibrium=Players(mean, jnp.zeros(2)), sample_init=TranslationInit(float(theta0)))


@dataclasses.dataclass(frozen=True)
class TranslationInit:
    """The generator at θ₀, a small random critic (a, b) ~ N(0, 0.1² I)."""

    theta0: float

    def __call__(self, key):
        return Players(jnp.asarray(self.theta0, jnp.float32), 0.1 * jax.random.normal(key, (2,)))


@dataclasses.dataclass(frozen=True)
class TranslationLoss:
    """The translation GAN's loss on ``batch_size`` fresh data and latent samples per key."""

    batch_size: int

    def __call__(self, p, key, data_mean, state):
        if key is None:
            raise ValueError("translation_gan is stochastic: pass a PRNG key to its loss/field")
        kx, kz = jax.random.split(key)
        x = data_mean + jax.random.normal(kx, (self.batch_size,))
        fake = jax.random.normal(kz, (self.batch_size,)) + p.min
        f = lambda t: p.max[0] * t + p.max[1]
        return -jnp.mean(logistic(f(x))) - jnp.mean(logistic(-f(fake)))
