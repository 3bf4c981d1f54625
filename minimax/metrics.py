"""Evaluation metrics of generated samples (plain functions).

Memorization: does the generator reproduce the training set? The n generated samples are
matched one-to-one to the n training points by the exact optimal assignment
(:func:`minimax.ot.assignment`), and a training point counts as reproduced when its
matched sample is within a per-pixel tolerance (Chae, Kim & Kim, ICML HiLD workshop 2025;
the 32-MNIST experiment of D. Kim's KIAS talk, Jan 2026). Mode collapse onto few training
points: :func:`distinct_nearest`, how many of them are some sample's nearest neighbour.

Mode coverage on 2-D Gaussian mixtures (:func:`mode_coverage`): modes holding enough
samples within 3σ of their center, and the fraction of such high-quality samples.

Two-sample tests of generated against held-out samples, each a :class:`TwoSampleTest`
(statistic, p-value): the kernel MMD permutation test (:func:`mmd_permutation_test`), the
Kolmogorov–Smirnov test in 1-D (:func:`ks_test`) and Welch's t test (:func:`welch_t_test`).

Sample quality in a feature space: the Fréchet distance (:func:`frechet_distance`, FID's
formula), the kernel distance (:func:`kernel_distance`, KID), improved precision and recall
(:func:`precision_recall`) and density and coverage (:func:`density_coverage`). Each
compares real and generated samples (n, ...) after an embedding ``features``: ``None`` (the
flattened samples), any callable (n, ...) → (n, d), or ``"mnist"``, the penultimate layer of
the shipped MNIST classifier (:func:`minimax.features.mnist_features`). All are jittable with
``features`` (and ``k``, ``kernel``, ``subsets``, ``subset_size``) static.
"""
from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from minimax import validation
from minimax.losses.sample_distances import _pair, gaussian_kernel, mmd2, polynomial_kernel

#: Default per-pixel tolerance: max |x − g| <= 0.1 on data scaled to [0, 1]
#: (use 0.2 for [−1, 1] data): about 25 grey levels of 255 on every pixel.
MEMORIZATION_TOL = 0.1


class Memorization(NamedTuple):
    fraction: jax.Array       # fraction of training points reproduced within `tol`
    mean_distance: jax.Array  # (1/n) Σ_i ‖x_i − g_σ(i)‖ (Euclidean, data units)
    max_abs_diff: jax.Array   # (n,) max_k |x_ik − g_σ(i)k| per training point
    perm: jax.Array           # (n,) training point i is matched to generated sample perm[i]


def memorization(generated, train, *, tol: float = MEMORIZATION_TOL) -> Memorization:
    """Memorization of ``train`` (n, ...) by ``generated`` (n, ...) under the optimal matching.

    σ = argmin_σ Σ_i ‖x_i − g_σ(i)‖² (exact assignment); point i is reproduced when
    max_k |x_ik − g_σ(i)k| <= ``tol`` (in data units). Jittable and vmappable.

    Examples:
        >>> import jax.numpy as jnp
        >>> from minimax import metrics
        >>> train = jnp.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
        >>> generated = train[::-1] + jnp.array([0.05, 0.0])  # the training points, reversed and shifted
        >>> m = metrics.memorization(generated, train, tol=0.1)
        >>> float(m.fraction), m.perm.tolist()
        (1.0, [2, 1, 0])
        >>> float(metrics.memorization(generated, train, tol=0.01).fraction)
        0.0
    """
    from minimax import ot  # ott-jax is imported only when needed

    perm = ot.assignment(train, generated).perm
    x = jnp.asarray(train).reshape(perm.shape[0], -1)
    diff = x - jnp.asarray(generated).reshape(perm.shape[0], -1)[perm]
    max_abs = jnp.max(jnp.abs(diff), axis=1)
    return Memorization(jnp.mean(max_abs <= tol), jnp.mean(jnp.linalg.norm(diff, axis=1)), max_abs, perm)



def distinct_nearest(generated, train) -> jax.Array:
    """The number of training points that are the nearest neighbour of at least one generated sample.

    The size of the set {argmin_i ‖g_j − x_i‖ : j = 1..m} (Euclidean, ties to the lowest index):
    n when the generator reproduces every training point, 1 under full mode collapse (every sample
    nearest to the same point), whatever the distance the samples keep from the data (a collapsed blurred image counts 1
    like a collapsed exact copy). Complements :func:`memorization`, whose matched distance cannot tell
    one shared image from distinct poor ones. Jittable and vmappable.

    Examples:
        >>> import jax.numpy as jnp
        >>> from minimax import metrics
        >>> train = jnp.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
        >>> int(metrics.distinct_nearest(train[::-1] + 0.3, train)), int(metrics.distinct_nearest(0 * train + 0.9, train))
        (3, 1)
    """
    x = jnp.asarray(train).reshape(jnp.shape(train)[0], -1)
    g = jnp.asarray(generated).reshape(jnp.shape(generated)[0], -1)
    if x.shape[1] != g.shape[1]:
        raise ValueError(f"distinct_nearest: `generated` has samples of size {g.shape[1]} but `train` of size "
                         f"{x.shape[1]}")
    nearest = jnp.argmin(_rows(_distances_to(x), g, x.shape[0]), axis=1)
    return jnp.sum(jnp.zeros(x.shape[0], bool).at[nearest].set(True))

# ----------------------------------------------------------------------------- mode coverage

#: A mode counts as covered when it holds at least this fraction of its expected share n/K
#: of the n samples (PacGAN's rule, 20 high-quality samples of 2500 on 25 modes, is 0.2·n/K).
MODE_COUNT_FRACTION = 0.2


class ModeCoverage(NamedTuple):
    modes_covered: jax.Array  # number of modes with at least `min_count` high-quality samples
    high_quality: jax.Array   # fraction of samples within radius_sigmas·σ of some center
    counts: jax.Array         # (K,) high-quality samples per mode


def mode_coverage(samples, mixture, *, min_count=None, radius_sigmas: float = 3.0) -> ModeCoverage:
    """Modes covered and high-quality fraction of 2-D ``samples`` (n, 2) for a Gaussian ``mixture``.

    A sample is high-quality when ‖x − c_k‖ <= r·σ for its nearest center c_k (r =
    ``radius_sigmas``), and then counts for mode k; mode k is covered when
    count_k >= ``min_count``, by default ⌈0.2·n/K⌉ (:data:`MODE_COUNT_FRACTION`). Exact
    samples of N(c_k, σ²I) in 2-D are high-quality with probability 1 − e^{−r²/2}
    (0.989 for r = 3). Jittable and vmappable (``mixture`` a
    :class:`minimax.data.GaussianMixture`).

    References: Metz et al., "Unrolled generative adversarial networks", ICLR 2017;
    Srivastava et al., "VEEGAN", NeurIPS 2017; Lin et al., "PacGAN", NeurIPS 2018.

    Examples:
        Exact samples of the ring cover all 8 modes; a collapsed generator covers one:

        >>> import jax, jax.numpy as jnp
        >>> from minimax import metrics
        >>> from minimax.data import ring8
        >>> ring = ring8()
        >>> int(metrics.mode_coverage(ring.sample(jax.random.PRNGKey(0), 800), ring).modes_covered)
        8
        >>> collapsed = jnp.tile(ring.centers[:1], (800, 1))
        >>> cover = metrics.mode_coverage(collapsed, ring)
        >>> int(cover.modes_covered), float(cover.high_quality)
        (1, 1.0)
    """
    samples = jnp.asarray(samples)
    centers = jnp.asarray(mixture.centers)
    if samples.ndim != 2 or samples.shape[1] != centers.shape[1]:
        raise ValueError(f"mode_coverage: `samples` must be (n, {centers.shape[1]}), got shape {samples.shape}")
    n, k = samples.shape[0], centers.shape[0]
    min_count = math.ceil(MODE_COUNT_FRACTION * n / k) if min_count is None else min_count
    sq = jnp.sum((samples[:, None, :] - centers[None, :, :]) ** 2, axis=-1)
    good = jnp.min(sq, axis=1) <= (radius_sigmas * mixture.sigma) ** 2
    counts = jnp.sum(jax.nn.one_hot(jnp.argmin(sq, axis=1), k) * good[:, None], axis=0).astype(jnp.int32)
    return ModeCoverage(jnp.sum(counts >= min_count), jnp.mean(good), counts)


# ----------------------------------------------------------------------------- two-sample tests

class TwoSampleTest(NamedTuple):
    statistic: jax.Array
    p_value: jax.Array


def mmd_permutation_test(x, y, key, *, kernel=None, num_permutations: int = 200,
                         unbiased: bool = False) -> TwoSampleTest:
    """Kernel two-sample test of H₀: P = Q by permutation of the pooled sample.

    The statistic is :func:`minimax.losses.sample_distances.mmd2` (default kernel, biased
    unless ``unbiased``). With z = (x, y), Gram matrix K and the indicators a, b of the two
    sets (|a| = n, |b| = m), the biased statistic is

        MMD² = aᵀKa/n² + bᵀKb/m² − 2aᵀKb/(nm)

    (unbiased: the diagonal removed, aᵀKa − aᵀdiag K over n(n−1), likewise for b), so each of
    the B = ``num_permutations`` relabelings π reuses K. p = (1 + #{b: MMD²_π_b ≥ MMD²}) / (1 + B),
    a valid p-value (P(p ≤ α) ≤ α under H₀). Jittable (B static); ``key`` draws the π_b.

    References: Gretton et al., "A kernel two-sample test", JMLR 2012; Phipson & Smyth,
    "Permutation p-values should never be zero", SAGMB 2010.
    """
    x, y = _pair(x, y, "mmd_permutation_test")
    n, m = x.shape[0], y.shape[0]
    if unbiased and (n < 2 or m < 2):
        raise ValueError(f"mmd_permutation_test: the unbiased statistic needs at least 2 samples per set, "
                         f"got {n} and {m}")
    if num_permutations < 1:
        raise ValueError(f"mmd_permutation_test: `num_permutations` must be >= 1, got {num_permutations}")
    z = jnp.concatenate([x, y])
    gram = (gaussian_kernel() if kernel is None else kernel)(z, z)
    return _permutation_test(gram, key, n=n, num_permutations=num_permutations, unbiased=unbiased)


@functools.partial(jax.jit, static_argnames=("n", "num_permutations", "unbiased"))
def _permutation_test(gram, key, *, n, num_permutations, unbiased) -> TwoSampleTest:
    """The MMD statistic of the split (first n, the rest) of the pooled Gram matrix, and its permutation p-value."""
    m = gram.shape[0] - n
    diag = jnp.diagonal(gram) if unbiased else jnp.zeros(n + m, gram.dtype)
    nx, ny = (n * (n - 1), m * (m - 1)) if unbiased else (n * n, m * m)

    def statistic(a):
        b = 1.0 - a
        return ((a @ gram @ a - a @ diag) / nx + (b @ gram @ b - b @ diag) / ny
                - 2.0 * (a @ gram @ b) / (n * m))

    a = (jnp.arange(n + m) < n).astype(gram.dtype)
    observed = statistic(a)
    null = jax.vmap(lambda k: statistic(jax.random.permutation(k, a)))(jax.random.split(key, num_permutations))
    return TwoSampleTest(observed, (1.0 + jnp.sum(null >= observed)) / (1.0 + num_permutations))


def _sample_1d(x, name):
    x = jnp.asarray(x)
    if x.ndim != 1 or x.shape[0] < 1:
        raise ValueError(f"`{name}` must be a non-empty 1-D array, got shape {x.shape}")
    return x


@jax.jit
def kolmogorov_sf(lam) -> jax.Array:
    """Q(λ) = P(K > λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²}, the Kolmogorov distribution's tail.

    For λ < 1 computed as 1 − (√(2π)/λ) Σ_{k≥1} e^{−(2k−1)²π²/(8λ²)}, which converges fast there.
    Reference: Kolmogorov, G. Ist. Ital. Attuari 4, 1933; Marsaglia, Tsang, Wang, J. Stat.
    Softw. 8(18), 2003.
    """
    lam = jnp.asarray(lam, jnp.result_type(float))
    k = jnp.arange(1, 21, dtype=lam.dtype)
    big = jnp.maximum(lam, 1.0)[..., None]
    tail = 2.0 * jnp.sum((-1.0) ** (k - 1) * jnp.exp(-2.0 * k**2 * big**2), axis=-1)
    small = jnp.clip(lam, 1e-3, 1.0)[..., None]
    cdf = jnp.sqrt(2.0 * jnp.pi) / small[..., 0] * jnp.sum(jnp.exp(-((2 * k - 1) ** 2) * jnp.pi**2 / (8.0 * small**2)),
                                                            axis=-1)
    return jnp.clip(jnp.where(lam < 1.0, 1.0 - cdf, tail), 0.0, 1.0)


def _ks_exact_sf(h: int, n: int, m: int) -> float:
    """P(D ≥ h/(nm)) for two independent continuous samples of sizes n, m (no ties).

    A relabeling of the pooled sorted sample is a lattice path (0, 0) → (n, m), uniform over
    the C(n+m, n) paths, with D = max |i/n − j/m| = max |im − jn|/(nm) along it. The fraction
    v(i, j) of paths to (i, j) that touched {|im − jn| ≥ h} obeys v = 1 there and otherwise
    v(i, j) = i/(i+j)·v(i−1, j) + j/(i+j)·v(i, j−1). Along a row, with L_j = −log C(i+j, j),
    v_j = e^{L_j} Σ_k α_k e^{−L_k} (α_k = i/(i+k)·v(i−1, k), plus the forbidden cell left of
    the row's admissible interval): a sum of non-negative terms, accumulated in log space, so
    small p-values keep their relative precision. O(nm) time, float64, on the host.
    Reference: Hodges, "The significance probability of the Smirnov two-sample test",
    Ark. Mat. 3, 1957.
    """
    if h <= 0:
        return 1.0
    n, m = min(n, m), max(n, m)
    log_fact = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, n + m + 1)))])
    j = np.arange(m + 1)
    log_v = np.full(m + 1, -np.inf)
    with np.errstate(divide="ignore"):
        for i in range(n + 1):
            cols = np.flatnonzero(np.abs(i * m - j * n) < h)
            new = np.zeros(m + 1)  # log v = 0 on forbidden cells
            if cols.size:
                jj = j[cols[0]:cols[-1] + 1]
                L = log_fact[jj] + log_fact[i] - log_fact[i + jj]
                terms = (np.log(i / (i + jj)) if i else -np.inf) + log_v[jj] - L
                if jj[0] > 0:  # the forbidden cell just left of the interval, v = 1, weight e^{−L}
                    left = jj[0] - 1
                    terms[0] = np.logaddexp(terms[0], log_fact[i + left] - log_fact[left] - log_fact[i])
                new[jj] = L + np.logaddexp.accumulate(terms)
            log_v = new
    return float(min(1.0, math.exp(log_v[m])))


#: ``ks_test(method="auto")`` uses the exact null distribution up to this n·m, the asymptotic one above.
KS_EXACT_MAX_NM = 10**7


@jax.jit
def ks_statistic(x, y) -> jax.Array:
    """D = sup_t |F_x(t) − F_y(t)| between the empirical CDFs of 1-D samples x, y (ties allowed). Jittable."""
    x, y = jnp.sort(_sample_1d(x, "x")), jnp.sort(_sample_1d(y, "y"))
    t = jnp.concatenate([x, y])
    fx = jnp.searchsorted(x, t, side="right") / x.shape[0]
    fy = jnp.searchsorted(y, t, side="right") / y.shape[0]
    return jnp.max(jnp.abs(fx - fy))


def ks_test(x, y, *, method: str = "auto") -> TwoSampleTest:
    """Two-sided two-sample Kolmogorov–Smirnov test of H₀: F = G on 1-D samples x (n,), y (m,).

    Statistic D = sup_t |F_n(t) − G_m(t)| (:func:`ks_statistic`). p-value P(D_{n,m} ≥ D):

    * ``"exact"``: the null distribution for continuous data (no ties), by counting lattice
      paths (Hodges 1957; host-side, float64, O(nm));
    * ``"asymp"``: Kolmogorov's limit Q(√(nm/(n+m))·D) (:func:`kolmogorov_sf`); jittable;
    * ``"auto"``: exact when n·m ≤ :data:`KS_EXACT_MAX_NM`, else asymptotic.

    Reference: Smirnov, "On the estimation of the discrepancy between empirical curves of
    distribution for two independent samples", Bull. Moscow Univ. 2, 1939.
    """
    if method not in ("auto", "exact", "asymp"):
        raise ValueError(f"ks_test: `method` must be 'auto', 'exact' or 'asymp', got {method!r}")
    x, y = _sample_1d(x, "x"), _sample_1d(y, "y")
    n, m = x.shape[0], y.shape[0]
    d = ks_statistic(x, y)
    if method == "asymp" or (method == "auto" and n * m > KS_EXACT_MAX_NM):
        return TwoSampleTest(d, kolmogorov_sf(jnp.sqrt(n * m / (n + m)) * d))
    # D·nm is an integer |im − jn|; read it off the float64 CDFs of the pooled points
    xs, ys = np.sort(np.asarray(x, np.float64)), np.sort(np.asarray(y, np.float64))
    t = np.concatenate([xs, ys])
    gap = np.abs(np.searchsorted(xs, t, side="right") * m - np.searchsorted(ys, t, side="right") * n)
    return TwoSampleTest(d, jnp.asarray(_ks_exact_sf(int(gap.max()), n, m), d.dtype))


def welch_t_test(x, y) -> TwoSampleTest:
    """Welch's two-sample t test of H₀: E X = E Y without assuming equal variances (two-sided).

        t = (x̄ − ȳ) / √(s_x²/n + s_y²/m),
        ν = (s_x²/n + s_y²/m)² / [(s_x²/n)²/(n−1) + (s_y²/m)²/(m−1)]   (Welch–Satterthwaite),
        p = P(|T_ν| ≥ |t|) = I_{ν/(ν+t²)}(ν/2, 1/2),

    s² the unbiased sample variances, I the regularized incomplete beta function. Needs
    n, m ≥ 2. Jittable and vmappable.

    Reference: Welch, "The generalization of Student's problem when several different
    population variances are involved", Biometrika 34, 1947.
    """
    x, y = _sample_1d(x, "x"), _sample_1d(y, "y")
    n, m = x.shape[0], y.shape[0]
    if n < 2 or m < 2:
        raise ValueError(f"welch_t_test: needs at least 2 samples per set, got {n} and {m}")
    return _welch(x, y)


@jax.jit
def _welch(x, y) -> TwoSampleTest:
    n, m = x.shape[0], y.shape[0]
    vx, vy = jnp.var(x, ddof=1) / n, jnp.var(y, ddof=1) / m
    t = (jnp.mean(x) - jnp.mean(y)) / jnp.sqrt(vx + vy)
    nu = (vx + vy) ** 2 / (vx**2 / (n - 1) + vy**2 / (m - 1))
    return TwoSampleTest(t, jax.scipy.special.betainc(nu / 2, 0.5, nu / (nu + t**2)))


# ----------------------------------------------------------------------------- sample quality in a feature space

def _feature_fn(features, fn: str):
    """The embedding named by ``features`` (None: flatten), checked."""
    if features is None:
        return lambda x: x.reshape(x.shape[0], -1)
    if isinstance(features, str):
        if features == "mnist":
            from minimax.features import mnist_features  # flax weights are loaded only when asked for
            return mnist_features()
        raise ValueError(f"{fn}: unknown `features` {features!r}; expected None, 'mnist' or a callable "
                         f"(n, ...) -> (n, d)")
    if not callable(features):
        raise ValueError(f"{fn}: `features` must be None, 'mnist' or a callable (n, ...) -> (n, d), "
                         f"got {type(features).__name__}")
    return features


def _embedded_pair(x, y, features, fn: str, names, min_samples: int):
    """Both sample sets embedded by ``features`` as (n, d) and (m, d) arrays of the default float dtype."""
    embed = _feature_fn(features, fn)
    out = []
    for a, name in zip((x, y), names):
        a = validation.finite(fn, name, validation.real_array(fn, name, a))
        if a.ndim == 0 or a.shape[0] < min_samples:
            raise ValueError(f"{fn}: `{name}` must have a leading sample axis with at least {min_samples} samples, "
                             f"got shape {a.shape}")
        e = jnp.asarray(embed(a))
        if e.ndim != 2 or e.shape[0] != a.shape[0]:
            raise ValueError(f"{fn}: `features` must map `{name}` of shape (n, ...) to (n, d), got {a.shape} -> "
                             f"{e.shape}")
        out.append(e.astype(jnp.result_type(float)))  # float64 when x64 is enabled, else float32
    if out[0].shape[1] != out[1].shape[1]:
        raise ValueError(f"{fn}: `{names[0]}` and `{names[1]}` must have the same number of features, got "
                         f"{out[0].shape[1]} and {out[1].shape[1]}")
    return out


def frechet_distance(x, y, *, features=None) -> jax.Array:
    """Fréchet distance between Gaussians fitted to the embedded sets x (n, ...) and y (m, ...):

        FD = ‖μx − μy‖² + tr(Σx + Σy − 2(ΣxΣy)^{1/2}),

    the squared 2-Wasserstein distance between N(μx, Σx) and N(μy, Σy); sample means and
    covariances (1/(n − 1)), n, m ≥ 2. With ``features="mnist"`` it is the MNIST analogue of
    FID. Σ = AᵀA with A the centered samples over √(n − 1) and AᵀA = RᵀR (QR), so
    ΣxΣy is similar to (RxRyᵀ)(RxRyᵀ)ᵀ and

        tr(ΣxΣy)^{1/2} = ‖RxRyᵀ‖_* (the sum of singular values),    tr Σ = ‖R‖²_F:

    no matrix square root, no covariance formed (its condition number is not squared), and
    singular Σ (n < d) need no special care. Computed in float64 when x64 is enabled, else
    float32; clipped at 0.

    Reference: Heusel, Ramsauer, Unterthiner, Nessler, Hochreiter, "GANs trained by a two
    time-scale update rule converge to a local Nash equilibrium", NeurIPS 2017; Dowson &
    Landau, "The Fréchet distance between multivariate normal distributions", JMVA 1982.
    """
    x, y = _embedded_pair(x, y, features, "frechet_distance", ("x", "y"), 2)
    return _frechet(x, y)


@jax.jit
def _frechet(x, y) -> jax.Array:
    def moments(a):
        mu = jnp.mean(a, axis=0)
        return mu, jnp.linalg.qr((a - mu) / jnp.sqrt(a.shape[0] - 1.0), mode="r")

    (mx, rx), (my, ry) = moments(x), moments(y)
    cross = jnp.sum(jnp.linalg.svd(rx @ ry.T, compute_uv=False))
    fd = jnp.sum((mx - my) ** 2) + jnp.sum(rx**2) + jnp.sum(ry**2) - 2.0 * cross
    return jnp.maximum(fd, 0.0)


#: The KID kernel k(a, b) = (aᵀb/d + 1)³; one object, so that jit caches on it.
KID_KERNEL = polynomial_kernel(3)

#: Default size of KID's random subsets (Bińkowski et al. use 1000).
KID_SUBSET_SIZE = 1000


def kernel_distance(x, y, *, features=None, kernel=None, subsets=None, subset_size=None, key=None) -> jax.Array:
    """Kernel distance (KID): the unbiased MMD² between the embedded sets x (n, ...) and y (m, ...),

        KID = 1/(n(n−1)) Σ_{i≠j} k(x_i, x_j) + 1/(m(m−1)) Σ_{i≠j} k(y_i, y_j) − 2/(nm) Σ_ij k(x_i, y_j),

    with the cubic polynomial kernel k(a, b) = (aᵀb/d + 1)³ (:data:`KID_KERNEL`) unless
    ``kernel`` is given (:func:`minimax.losses.sample_distances.mmd2`, ``unbiased=True``). An
    unbiased estimate of MMD²: its mean is 0 when x and y come from one distribution, and it
    may be negative. With ``subsets`` = S it is the mean of S estimates on random subsets of
    ``subset_size`` (default min(n, m, 1000)) samples of each set, drawn without replacement
    from ``key`` (required then), which bounds the cost at S·subset_size² kernel evaluations
    and stays unbiased. ``kernel``, ``subsets`` and ``subset_size`` are static under jit.

    Reference: Bińkowski, Sutherland, Arbel, Gretton, "Demystifying MMD GANs", ICLR 2018.
    """
    x, y = _embedded_pair(x, y, features, "kernel_distance", ("x", "y"), 2)
    kernel = KID_KERNEL if kernel is None else kernel
    if subsets is None:
        if subset_size is not None or key is not None:
            raise ValueError("kernel_distance: `subset_size` and `key` are used only with `subsets`")
        return _kid(x, y, kernel)
    n, m = x.shape[0], y.shape[0]
    size = min(n, m, KID_SUBSET_SIZE) if subset_size is None else subset_size
    if not (isinstance(subsets, int) and subsets >= 1):
        raise ValueError(f"kernel_distance: `subsets` must be a positive integer, got {subsets!r}")
    if not (isinstance(size, int) and 2 <= size <= min(n, m)):
        raise ValueError(f"kernel_distance: `subset_size` must be an integer in [2, {min(n, m)}] (the smaller "
                         f"set), got {size!r}")
    if key is None:
        raise ValueError("kernel_distance: random subsets need a `key`")
    return _kid_subsets(x, y, key, kernel, subsets, size)


@functools.partial(jax.jit, static_argnums=2)
def _kid(x, y, kernel) -> jax.Array:
    return mmd2(x, y, kernel, unbiased=True)


@functools.partial(jax.jit, static_argnums=(3, 4, 5))
def _kid_subsets(x, y, key, kernel, subsets, size) -> jax.Array:
    def estimate(k):
        kx, ky = jax.random.split(k)
        ix = jax.random.choice(kx, x.shape[0], (size,), replace=False)
        iy = jax.random.choice(ky, y.shape[0], (size,), replace=False)
        return mmd2(x[ix], y[iy], kernel, unbiased=True)
    return jnp.mean(jax.lax.map(estimate, jax.random.split(key, subsets)))


def _check_k(k, n: int, fn: str, names: str):
    if not (isinstance(k, int) and 1 <= k < n):
        raise ValueError(f"{fn}: `k` must be an integer in [1, n − 1] with n = {n} the number of samples in "
                         f"{names} (the k-th neighbour excludes the point itself), got {k!r}")


#: Rows of pairwise distances are computed in blocks of about this many entries.
_BLOCK_ENTRIES = 2**22


def _distances_to(points):
    """q ↦ (‖q − p_j‖²)_j for the rows p_j of ``points``, from the norms and one matrix product."""
    sq = jnp.sum(points**2, axis=1)
    return lambda q: jnp.maximum(jnp.sum(q**2) + sq - 2.0 * (points @ q), 0.0)


def _rows(f, queries, width: int):
    """``f`` over the rows of ``queries``, vmapped in blocks of about _BLOCK_ENTRIES / width rows."""
    return jax.lax.map(f, queries, batch_size=max(1, min(queries.shape[0], _BLOCK_ENTRIES // width)))


def _kth_smallest(d, k: int):
    """The (k+1)-th smallest entry of d: the k-th neighbour's distance when d includes the point itself."""
    return -jax.lax.top_k(-d, k + 1)[0][k]


class PrecisionRecall(NamedTuple):
    precision: jax.Array  # fraction of fake samples inside the real manifold
    recall: jax.Array     # fraction of real samples inside the fake manifold


def precision_recall(real, fake, *, k: int = 3, features=None) -> PrecisionRecall:
    """Improved precision and recall of ``fake`` (m, ...) against ``real`` (n, ...) with k-NN balls.

    The manifold of a set Φ is the union of the closed balls B(φ, r_k(φ)) over φ ∈ Φ, with
    r_k(φ) the distance from φ to its k-th nearest neighbour among the other points of Φ; with
    f(q, Φ) = 1 if ‖q − φ‖ ≤ r_k(φ) for some φ ∈ Φ,

        precision = (1/m) Σ_j f(fake_j, real),    recall = (1/n) Σ_i f(real_i, fake).

    Euclidean distances in the embedding ``features``; needs k < n and k < m. Memory
    O(n + m) beyond the inputs (distance rows are formed in blocks).

    Reference: Kynkäänniemi, Karras, Laine, Lehtinen, Aila, "Improved precision and recall
    metric for assessing generative models", NeurIPS 2019 (k = 3).
    """
    real, fake = _embedded_pair(real, fake, features, "precision_recall", ("real", "fake"), 1)
    n, m = real.shape[0], fake.shape[0]
    _check_k(k, min(n, m), "precision_recall", "`real` and `fake`")
    return _precision_recall(real, fake, k)


@functools.partial(jax.jit, static_argnums=2)
def _precision_recall(real, fake, k) -> PrecisionRecall:
    center = jnp.mean(real, axis=0)  # distances are translation invariant; centering limits cancellation
    real, fake = real - center, fake - center
    to_real, to_fake = _distances_to(real), _distances_to(fake)
    n, m = real.shape[0], fake.shape[0]
    r_real = _rows(lambda q: _kth_smallest(to_real(q), k), real, n)
    r_fake = _rows(lambda q: _kth_smallest(to_fake(q), k), fake, m)
    precision = _rows(lambda q: jnp.any(to_real(q) <= r_real), fake, n)
    recall = _rows(lambda q: jnp.any(to_fake(q) <= r_fake), real, m)
    return PrecisionRecall(jnp.mean(precision), jnp.mean(recall))


class DensityCoverage(NamedTuple):
    density: jax.Array   # mean number of real k-NN balls holding a fake sample, over k (≈ 1 when fake ~ real)
    coverage: jax.Array  # fraction of real k-NN balls holding at least one fake sample


def density_coverage(real, fake, *, k: int = 5, features=None) -> DensityCoverage:
    """Density and coverage of ``fake`` (m, ...) against ``real`` (n, ...) with real k-NN balls.

    With r_k(x_i) the distance from real x_i to its k-th nearest neighbour among the other
    real samples and B(x, r) = {q : ‖q − x‖ < r} (open, as in the reference code),

        density  = 1/(k m) Σ_j Σ_i 1[y_j ∈ B(x_i, r_k(x_i))],
        coverage = (1/n) Σ_i 1[∃ j : y_j ∈ B(x_i, r_k(x_i))].

    For fake = real (no ties) density = coverage = 1 exactly; for independent fake and real
    samples of one distribution E[density] = 1 and E[coverage] =
    1 − Π_{i=1..k} (n − i)/(m + n − i) (→ 1 − 2^{−k} for m = n). Unlike precision and recall,
    both use the real balls only, so outlying real samples do not inflate them. Needs k < n.

    Reference: Naeem, Oh, Uh, Choi, Yoo, "Reliable fidelity and diversity metrics for
    generative models", ICML 2020 (k = 5).
    """
    real, fake = _embedded_pair(real, fake, features, "density_coverage", ("real", "fake"), 1)
    _check_k(k, real.shape[0], "density_coverage", "`real`")
    return _density_coverage(real, fake, k)


@functools.partial(jax.jit, static_argnums=2)
def _density_coverage(real, fake, k) -> DensityCoverage:
    center = jnp.mean(real, axis=0)
    real, fake = real - center, fake - center
    to_real, to_fake = _distances_to(real), _distances_to(fake)

    def ball(q):  # the ball of real q: its radius and distances from one shared code path, so ties are consistent
        r = _kth_smallest(to_real(q), k)
        d = to_fake(q)
        return jnp.sum(d < r), jnp.min(d) < r

    counts, covered = _rows(ball, real, real.shape[0] + fake.shape[0])
    return DensityCoverage(jnp.sum(counts) / (k * fake.shape[0]), jnp.mean(covered))
