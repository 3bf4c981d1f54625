"""Toy games with known equilibria, as data (:class:`minimax.game.Game` records).

Each factory returns a Game with its loss, its equilibrium p*, a sampler of initial
points and, where the game has one, the projection onto its constraint set.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from minimax.game import Game, Players
from minimax.losses import linear, logistic
from minimax.updates.projection import box, on_max_player


def _uniform_init(shape_min=(), shape_max=(), radius=1.0):
    def sample(key):
        k1, k2 = jax.random.split(key)
        return Players(jax.random.uniform(k1, shape_min, minval=-radius, maxval=radius),
                       jax.random.uniform(k2, shape_max, minval=-radius, maxval=radius))
    return sample


def bilinear(A=None) -> Game:
    """L(x, y) = xᵀAy (scalar x·y when ``A`` is None); p* = 0.

    F = (Ay, −Aᵀx) is a rotation field: ∂F has eigenvalues ±iσ_j(A), so GDA's
    linearized map has spectral radius √(1 + η²σ_max²) > 1 and EG's
    √(1 − η²σ² + η⁴σ⁴) < 1 for ησ < 1.
    """
    if A is None:
        loss, n, m = (lambda p, key=None: p.min * p.max), (), ()
    else:
        A = jnp.asarray(A, jnp.float32)
        if A.ndim != 2:
            raise ValueError(f"bilinear: `A` must be a 2-D matrix, got shape {A.shape}")
        loss, n, m = (lambda p, key=None: p.min @ A @ p.max), (A.shape[0],), (A.shape[1],)
    return Game(loss=loss, name="bilinear",
                equilibrium=Players(jnp.zeros(n), jnp.zeros(m)),
                sample_init=_uniform_init(n, m))


def rotation_spectral_radius(method: str, h):
    """Closed-form spectral radius of a rule's linearized map on a rotation field.

    For F(p) = s·[[0, −1], [1, 0]] p (the bilinear game x·y, and the Dirac GAN at its
    equilibrium) with step η and Λ_τ, the rules see the eigenvalues ±i·h, h = ηs/√τ:
    GDA √(1 + h²); EG √(1 − h² + h⁴); alternating GDA 1 (for h < 2: the map has
    determinant 1 and complex eigenvalues on the unit circle). None for other rules.
    """
    h = jnp.asarray(h)
    return {"gda": jnp.sqrt(1 + h**2), "eg": jnp.sqrt(1 - h**2 + h**4),
            "alt_gda": jnp.where(h < 2, 1.0, jnp.nan)}.get(method)


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
    loss = lambda p, key=None: -0.5 * a * p.min**2 + b * p.min * p.max - 0.5 * c * p.max**2
    return Game(loss=loss, name="quadratic", equilibrium=Players(jnp.zeros(()), jnp.zeros(())),
                sample_init=_uniform_init())


#: The Dirac GAN's distances: critic loss l and whether the critic is clipped to |w| <= 1.
DIRAC_DISTANCES = {
    "js": (logistic, False),
    "wasserstein": (linear, True),
    "zero_infinity": (linear, False),
}


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
    critic = lambda w, x: jnp.sum(w * x)
    loss = lambda p, key=None: -l(critic(p.max, 0.0 * p.min)) - l(-critic(p.max, p.min))
    return Game(loss=loss, name=f"dirac_{distance}", equilibrium=Players(jnp.zeros(()), jnp.zeros(())),
                sample_init=_uniform_init(), projection=on_max_player(box(-1.0, 1.0)) if clipped else None)


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

    def loss(p, key):
        if key is None:
            raise ValueError("translation_gan is stochastic: pass a PRNG key to its loss/field")
        kx, kz = jax.random.split(key)
        x = data_mean + jax.random.normal(kx, (batch_size,))
        fake = jax.random.normal(kz, (batch_size,)) + p.min
        f = lambda t: p.max[0] * t + p.max[1]
        return -jnp.mean(logistic(f(x))) - jnp.mean(logistic(-f(fake)))

    def sample_init(key):
        return Players(jnp.asarray(theta0, jnp.float32), 0.1 * jax.random.normal(key, (2,)))

    return Game(loss=loss, name="translation", equilibrium=Players(jnp.asarray(data_mean, jnp.float32), jnp.zeros(2)),
                sample_init=sample_init)
