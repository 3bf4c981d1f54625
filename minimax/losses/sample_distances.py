"""Discriminator-free distances between two sample sets, as minimization objectives.

Every function takes samples ``x`` of shape (n, ...) and ``y`` of shape (m, ...): the
leading axis indexes samples and trailing axes are flattened into one feature axis d
(a 1-D array is n scalar samples). All are jittable and differentiable except the
exact linear-programming Wasserstein distance, which runs ``scipy.optimize.linprog``
on the host.

* :func:`mmd2` with :func:`gaussian_kernel` (several bandwidths, summed),
  :func:`imq_kernel` (inverse multiquadric), :func:`polynomial_kernel` or
  :func:`energy_kernel`, biased or unbiased;
* :func:`energy_distance`;
* :func:`wasserstein_1d` (exact, via quantile functions) and :func:`sliced_wasserstein`;
* :func:`wasserstein_lp` and :func:`wasserstein_lp_dual` (exact, small weighted sets);
* :func:`mmd_gan`, a :class:`~minimax.losses.distances.Distance` whose critic is a
  learned feature map.

Wasserstein functions return the p-th power W_p^p (smooth at zero for p = 2).
"""
from __future__ import annotations

from typing import Callable, NamedTuple, Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from minimax import validation
from minimax.losses.distances import Distance

#: A kernel maps samples (n, d) and (m, d) to their Gram matrix (n, m).
Kernel = Callable[[jax.Array, jax.Array], jax.Array]


def _pair(x, y, fn: str):
    return validation.sample_pair(fn, x, y)


def _safe_sqrt(s):
    """√s with gradient 0 (not NaN) at s = 0; NaN stays NaN (never a finite value for NaN input)."""
    pos = s > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, s, 1.0)), jnp.where(jnp.isnan(s), s, 0.0))


def sq_distances(x, y) -> jax.Array:
    """D_ij = ‖x_i − y_j‖², computed from differences (exact zeros on coincident points)."""
    x, y = _pair(x, y, "sq_distances")
    return jnp.sum((x[:, None, :] - y[None, :, :]) ** 2, axis=-1)


def gaussian_kernel(bandwidths: Sequence[float] = (1.0, 2.0, 4.0, 8.0, 16.0)) -> Kernel:
    """k(x, y) = Σ_σ exp(−‖x − y‖² / (2σ²)), a sum of Gaussian kernels over bandwidths σ.

    Reference: Li, Swersky, Zemel, "Generative moment matching networks", ICML 2015;
    Li et al., "MMD GAN", NeurIPS 2017 (default bandwidths).
    """
    bw = np.asarray(bandwidths, np.float32).reshape(-1)
    if bw.size == 0 or np.any(bw <= 0):
        raise ValueError(f"gaussian_kernel: `bandwidths` must be positive, got {bandwidths!r}")
    return lambda x, y: jnp.sum(jnp.exp(-sq_distances(x, y)[..., None] / (2.0 * bw**2)), axis=-1)


def imq_kernel(scale: float = 1.0) -> Kernel:
    """k(x, y) = (1 + ‖x − y‖² / c²)^(−1/2), the inverse multiquadric kernel of scale c.

    Heavy tails keep gradients alive for far-apart samples.
    Reference: Gorham, Mackey, "Measuring sample quality with kernels", ICML 2017.
    """
    if not scale > 0:
        raise ValueError(f"imq_kernel: `scale` must be positive, got {scale!r}")
    return lambda x, y: jax.lax.rsqrt(1.0 + sq_distances(x, y) / scale**2)


def polynomial_kernel(degree: int = 3, gamma: Optional[float] = None, coef0: float = 1.0) -> Kernel:
    """k(x, y) = (γ xᵀy + c)^p, the polynomial kernel of degree p; γ = 1/d by default (d features).

    Positive semi-definite for c ≥ 0. With p = 3, γ = 1/d, c = 1 it is the kernel of the kernel
    inception distance (:func:`minimax.metrics.kernel_distance`).
    Reference: Bińkowski, Sutherland, Arbel, Gretton, "Demystifying MMD GANs", ICLR 2018.
    """
    if not (isinstance(degree, int) and degree >= 1):
        raise ValueError(f"polynomial_kernel: `degree` must be a positive integer, got {degree!r}")
    if gamma is not None and not gamma > 0:
        raise ValueError(f"polynomial_kernel: `gamma` must be positive, got {gamma!r}")
    if not coef0 >= 0:
        raise ValueError(f"polynomial_kernel: `coef0` must be non-negative, got {coef0!r}")

    def k(x, y):
        x, y = _pair(x, y, "polynomial_kernel")
        g = 1.0 / x.shape[1] if gamma is None else gamma
        return (g * (x @ y.T) + coef0) ** degree
    return k


def energy_kernel() -> Kernel:
    """k(x, y) = ‖x‖ + ‖y‖ − ‖x − y‖, the distance-induced kernel centred at 0.

    Its MMD² is the energy distance: MMD²_k = 2E‖X − Y‖ − E‖X − X'‖ − E‖Y − Y'‖.
    Reference: Sejdinovic et al., "Equivalence of distance-based and RKHS-based
    statistics in hypothesis testing", Annals of Statistics 2013.
    """
    def k(x, y):
        x, y = _pair(x, y, "energy_kernel")
        nx, ny = _safe_sqrt(jnp.sum(x**2, axis=-1)), _safe_sqrt(jnp.sum(y**2, axis=-1))
        return nx[:, None] + ny[None, :] - _safe_sqrt(sq_distances(x, y))
    return k


def mmd2(x, y, kernel: Optional[Kernel] = None, *, unbiased: bool = False) -> jax.Array:
    """Squared maximum mean discrepancy ‖E φ(X) − E φ(Y)‖² between the sets x and y.

    Biased (V-statistic, ≥ 0 for a positive-definite kernel):

        (1/n²) Σ_ij k(x_i, x_j) + (1/m²) Σ_ij k(y_i, y_j) − (2/nm) Σ_ij k(x_i, y_j).

    Unbiased (U-statistic, may be negative; needs n, m ≥ 2): the same with the
    diagonal terms i = j dropped from the first two sums, divided by n(n−1) and m(m−1).

    Args:
      x, y: samples (n, ...) and (m, ...).
      kernel: a :data:`Kernel`; default :func:`gaussian_kernel` ().
      unbiased: use the unbiased estimator.

    Reference: Gretton et al., "A kernel two-sample test", JMLR 2012.

    Examples:
        >>> import jax
        >>> from minimax.losses import gaussian_kernel, mmd2
        >>> x, y = (jax.random.normal(jax.random.PRNGKey(s), (200, 2)) for s in (0, 1))  # two samples of N(0, I)
        >>> kernel = gaussian_kernel([0.5, 1.0, 2.0])
        >>> float(mmd2(x, x, kernel))  # a set against itself
        0.0
        >>> round(float(mmd2(x, y, kernel)), 3), round(float(mmd2(x, y + 1.0, kernel)), 3)  # same law; shifted by 1
        (0.016, 0.481)
    """
    x, y = _pair(x, y, "mmd2")
    kernel = gaussian_kernel() if kernel is None else kernel
    n, m = x.shape[0], y.shape[0]
    kxx, kyy, kxy = kernel(x, x), kernel(y, y), kernel(x, y)
    if not unbiased:
        return jnp.mean(kxx) + jnp.mean(kyy) - 2.0 * jnp.mean(kxy)
    if n < 2 or m < 2:
        raise ValueError(f"mmd2: the unbiased estimator needs at least 2 samples in each set, got {n} and {m}")
    off = lambda k, s: (jnp.sum(k) - jnp.trace(k)) / (s * (s - 1))
    return off(kxx, n) + off(kyy, m) - 2.0 * jnp.mean(kxy)


def energy_distance(x, y, *, unbiased: bool = False) -> jax.Array:
    """Energy distance 2E‖X − Y‖ − E‖X − X'‖ − E‖Y − Y'‖ (= MMD² with :func:`energy_kernel`).

    ``unbiased`` averages ‖x_i − x_j‖ over i ≠ j only. For 1-D variables it equals
    2∫(F − G)² dx, twice the squared Cramér (ℓ₂) distance of the CDFs F and G.
    Reference: Székely, Rizzo, "Energy statistics", J. Stat. Plan. Inference 2013;
    Bellemare et al., "The Cramér distance as a solution to biased Wasserstein gradients", 2017.
    """
    x, y = _pair(x, y, "energy_distance")
    return mmd2(x, y, energy_kernel(), unbiased=unbiased)


def wasserstein_1d(x, y, p: float = 1.0) -> jax.Array:
    """W_p^p between the empirical measures of 1-D samples x (n,) and y (m,), exactly:

        W_p^p = ∫₀¹ |F⁻¹(t) − G⁻¹(t)|^p dt,

    with the empirical quantile functions piecewise constant on the merged grid
    {i/n} ∪ {j/m}; for n = m it is (1/n) Σ_i |x_(i) − y_(i)|^p (sorted samples).
    Reference: Peyré, Cuturi, "Computational optimal transport", 2019, §2.6.
    """
    x, y = validation.real_array("wasserstein_1d", "x", x), validation.real_array("wasserstein_1d", "y", y)
    if x.ndim != 1 or y.ndim != 1 or x.size == 0 or y.size == 0:
        raise ValueError(f"wasserstein_1d: `x` and `y` must be non-empty 1-D arrays, got shapes {x.shape} and {y.shape}")
    validation.number("wasserstein_1d", "p", p, low=1)
    validation.finite("wasserstein_1d", "x", x), validation.finite("wasserstein_1d", "y", y)
    n, m = x.shape[0], y.shape[0]
    t = np.unique(np.concatenate([np.arange(1, n + 1) / n, np.arange(1, m + 1) / m]))
    dt = np.diff(t, prepend=0.0)
    mid = t - dt / 2
    ix = np.minimum((mid * n).astype(int), n - 1)
    iy = np.minimum((mid * m).astype(int), m - 1)
    diff = jnp.sort(x)[ix] - jnp.sort(y)[iy]
    return jnp.sum(jnp.asarray(dt, x.dtype) * jnp.abs(diff) ** p)


def sliced_wasserstein(x, y, key, *, num_projections: int = 128, p: float = 2.0) -> jax.Array:
    """Sliced Wasserstein SW_p^p = E_u W_p^p(⟨u, X⟩, ⟨u, Y⟩), u uniform on the unit sphere.

    Monte Carlo over ``num_projections`` directions drawn from ``key``; each 1-D
    distance is exact (:func:`wasserstein_1d`, by sorting).
    Reference: Bonneel et al., "Sliced and Radon Wasserstein barycenters of measures",
    JMIV 2015; Deshpande, Zhang, Schwing, "Generative modeling using the sliced
    Wasserstein distance", CVPR 2018.
    """
    x, y = _pair(x, y, "sliced_wasserstein")
    if num_projections < 1:
        raise ValueError(f"sliced_wasserstein: `num_projections` must be >= 1, got {num_projections}")
    u = jax.random.normal(key, (num_projections, x.shape[1]), x.dtype)
    u = u / jnp.linalg.norm(u, axis=1, keepdims=True)
    return jnp.mean(jax.vmap(lambda d: wasserstein_1d(x @ d, y @ d, p))(u))


class TransportPlan(NamedTuple):
    """Primal solution: ``value`` = min_P Σ P_ij C_ij = W_p^p and the optimal plan P (n, m)."""

    value: float
    plan: np.ndarray


class KantorovichPotentials(NamedTuple):
    """Dual solution: ``value`` = max Σ a_i f_i + Σ b_j g_j = W_p^p and potentials f (n,), g (m,)."""

    value: float
    f: np.ndarray
    g: np.ndarray


def _lp_problem(x, y, a, b, p):
    x, y = (np.asarray(v, np.float64) for v in _pair(x, y, "wasserstein_lp"))
    n, m = x.shape[0], y.shape[0]
    a = np.full(n, 1.0 / n) if a is None else np.asarray(a, np.float64)
    b = np.full(m, 1.0 / m) if b is None else np.asarray(b, np.float64)
    if a.shape != (n,) or b.shape != (m,) or np.any(a < 0) or np.any(b < 0):
        raise ValueError(f"wasserstein_lp: weights must be non-negative with shapes ({n},) and ({m},), "
                         f"got {a.shape} and {b.shape}")
    if not np.isclose(a.sum(), b.sum(), rtol=1e-9, atol=1e-12):
        raise ValueError(f"wasserstein_lp: weights must have equal total mass, got {a.sum()} and {b.sum()}")
    if not p >= 1:
        raise ValueError(f"wasserstein_lp: `p` must be >= 1, got {p!r}")
    cost = np.linalg.norm(x[:, None, :] - y[None, :, :], axis=-1) ** p
    # Marginal constraints on vec(P) (row-major): row sums Σ_j P_ij = a_i, column sums Σ_i P_ij = b_j.
    A = np.concatenate([np.kron(np.eye(n), np.ones((1, m))), np.kron(np.ones((1, n)), np.eye(m))])
    return cost, A, np.concatenate([a, b])


def _linprog(*args, **kwargs):
    from scipy.optimize import linprog
    res = linprog(*args, method="highs", **kwargs)
    if res.status != 0:
        raise RuntimeError(f"wasserstein_lp: linprog failed: {res.message}")
    return res


def wasserstein_lp(x, y, a=None, b=None, *, p: float = 1.0) -> TransportPlan:
    """Exact W_p^p between weighted point sets Σ a_i δ_{x_i} and Σ b_j δ_{y_j}, primal LP:

        min_P Σ_ij P_ij ‖x_i − y_j‖^p  s.t.  P 1 = a,  Pᵀ 1 = b,  P ≥ 0.

    Host-side (``scipy.optimize.linprog``, HiGHS), not jittable; for small sets (the LP
    has n·m variables). Weights default to uniform and must have equal total mass.
    Reference: Peyré, Cuturi, "Computational optimal transport", 2019, §3; course notes
    in ``shared/references/002`` (Wasserstein distance as a linear program).
    """
    cost, A, ab = _lp_problem(x, y, a, b, p)
    res = _linprog(cost.ravel(), A_eq=A, b_eq=ab, bounds=(0, None))
    return TransportPlan(float(res.fun), res.x.reshape(cost.shape))


def wasserstein_lp_dual(x, y, a=None, b=None, *, p: float = 1.0) -> KantorovichPotentials:
    """Exact W_p^p by the dual LP (Kantorovich potentials):

        max_{f, g} Σ_i a_i f_i + Σ_j b_j g_j  s.t.  f_i + g_j ≤ ‖x_i − y_j‖^p,

    with f₀ = 0 fixing the shift (f + t, g − t). For p = 1 one may take g = −f with f
    1-Lipschitz (Kantorovich–Rubinstein). Host-side, like :func:`wasserstein_lp`.
    """
    cost, A, ab = _lp_problem(x, y, a, b, p)
    n = cost.shape[0]
    bounds = [(0.0, 0.0)] + [(None, None)] * (A.shape[0] - 1)
    res = _linprog(-ab, A_ub=A.T, b_ub=cost.ravel(), bounds=bounds)
    return KantorovichPotentials(float(-res.fun), res.x[:n], res.x[n:])


def mmd_gan(kernel: Optional[Kernel] = None, *, unbiased: bool = False,
            critic_projection: Optional[Callable] = None) -> Distance:
    """MMD-GAN: MMD² under a kernel on learned critic features, k(f_w(x), f_w(y)).

        min_θ max_w MMD²_k(f_w(X), f_w(G_θ(Z))),

    so critic_loss = −MMD² and generator_loss = MMD² of the critic's outputs on real
    and generated samples. The critic returns a feature vector per sample (e.g.
    ``MLPCritic(features=16)``), not a scalar. The original work keeps the critic
    injective with an autoencoder term and clips its weights; pass
    ``critic_projection=box(−c, c)`` for clipping (the autoencoder term is left out).

    Reference: Li, Chang, Cheng, Yang, Póczos, "MMD GAN: towards deeper understanding of
    moment matching network", NeurIPS 2017.
    """
    kernel = gaussian_kernel() if kernel is None else kernel
    value = lambda real, fake: mmd2(real, fake, kernel, unbiased=unbiased)
    return Distance(name="mmd_gan", critic_loss=lambda real, fake: -value(real, fake), generator_loss=value,
                    critic_projection=critic_projection, zero_sum=True)
