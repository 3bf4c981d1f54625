"""The f-GAN table against closed-form divergences, numerical conjugates and its domains.

Every quantity the tests check for one f-divergence is computed by one jitted program
(:func:`table_values`, cached), so the file costs one compilation per table entry.
"""
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from minimax.losses import DISTANCES, FDIVERGENCES, alpha_divergence, fgan_distance, get_fdivergence, references as R
from minimax.losses import weighted_jensen_shannon

# The registered table plus other members of the α family (α ∈ (0, 1) and α < 0).
FDIVS = dict(FDIVERGENCES, **{"alpha_0.5": alpha_divergence(0.5), "alpha_-1": alpha_divergence(-1.0)})
PARAMS = {"weighted_js": 0.25, "alpha": 1.5, "alpha_0.5": 0.5, "alpha_-1": -1.0}

# Closed-form D_f(P‖Q) for discrete p, q, from minimax.losses.references (independent formulas).
DISCRETE = {
    "tv": R.total_variation, "kl": R.kl, "reverse_kl": lambda p, q: R.kl(q, p), "pearson": R.pearson_chi2,
    "neyman": R.neyman_chi2, "hellinger": R.squared_hellinger, "jeffrey": R.jeffrey, "js": R.jensen_shannon,
    "gan": lambda p, q: 2 * R.jensen_shannon(p, q) - math.log(4.0),
    "weighted_js": lambda p, q: R.jensen_shannon(p, q, PARAMS["weighted_js"]),
}
for _name in ("alpha", "alpha_0.5", "alpha_-1"):
    DISCRETE[_name] = functools.partial(R.alpha_divergence, alpha=PARAMS[_name])

# Gaussian closed forms (the Jensen–Shannon family has none).
GAUSSIAN = {
    "tv": R.gaussian_total_variation, "kl": R.gaussian_kl, "reverse_kl": lambda a, b, c, d: R.gaussian_kl(c, d, a, b),
    "pearson": R.gaussian_pearson_chi2, "neyman": R.gaussian_neyman_chi2, "hellinger": R.gaussian_squared_hellinger,
    "jeffrey": R.gaussian_jeffrey,
}
for _name in ("alpha", "alpha_0.5", "alpha_-1"):
    GAUSSIAN[_name] = functools.partial(R.gaussian_alpha_divergence, alpha=PARAMS[_name])

# Families whose f-GAN terms grow at most polynomially in the critic output v: finite at |v| = 1e4.
# The others have a term like e^{|v|} (the table's activations and conjugates), which overflows
# float32 beyond |v| ≈ 88: that is the objective's value, not a rounding artifact.
POLYNOMIAL = {"tv", "pearson", "js", "weighted_js", "gan", "alpha", "alpha_-1"}

# Discrete pairs (p, q), rows of equal length; the first has probabilities in eighths so that
# the atoms, repeated, are samples whose means are exact expectations (for the Distance).
_RNG = np.random.default_rng(0)
PAIRS = np.stack([
    [[3 / 8, 1 / 8, 4 / 8, 0.0], [1 / 8, 5 / 8, 2 / 8, 0.0]],
    [[0.1, 0.2, 0.3, 0.4], [0.4, 0.1, 0.25, 0.25]],
    [[0.4, 0.1, 0.25, 0.25], [0.1, 0.2, 0.3, 0.4]],
    _RNG.dirichlet(np.ones(4), size=2),
]).astype(np.float32)
OTHER_CRITICS = (3.0 * _RNG.standard_normal((500, 4))).astype(np.float32)  # raw outputs v of other critics
REAL_IDX, FAKE_IDX = np.repeat(np.arange(3), [3, 1, 4]), np.repeat(np.arange(3), [1, 5, 2])
GAUSS = (0.3, 1.0, -0.2, 1.2)  # P = N(0.3, 1), Q = N(−0.2, 1.2²)
V_ALL = np.concatenate([-np.logspace(-3, 4, 60), [0.0], np.logspace(-3, 4, 60)]).astype(np.float32)


def _bisect(g, target, lo=-60.0, hi=60.0, steps=80):
    """v with g(v) = target for a monotone g (either direction), element-wise."""
    increasing = g(jnp.float32(hi)) > g(jnp.float32(lo))

    def step(_, bounds):
        a, b = bounds
        mid = 0.5 * (a + b)
        below = (g(mid) < target) == increasing
        return jnp.where(below, mid, a), jnp.where(below, b, mid)

    a, b = jax.lax.fori_loop(0, steps, step, (jnp.full_like(target, lo), jnp.full_like(target, hi)))
    return 0.5 * (a + b)


@functools.lru_cache(maxsize=None)
def table_values(name):
    fdiv = FDIVS[name]
    f_prime = jax.vmap(jax.grad(fdiv.f))

    def bound(p, q, t):  # Σ p·T − Σ q·f*(T), over the last axis
        return jnp.sum(p * t, axis=-1) - jnp.sum(jnp.where(q > 0, q * fdiv.conjugate(t), 0.0), axis=-1)

    def discrete(p, q):
        support = q > 0
        t_star = jnp.where(support, f_prime(jnp.where(support, p / q, 1.0)), 0.0)
        others = fdiv.activation(jnp.asarray(OTHER_CRITICS))
        return dict(closed=DISCRETE[name](p, q), by_f=jnp.sum(jnp.where(support, q * fdiv.f(p / q), 0.0)),
                    at_optimum=bound(p, q, t_star), best_other=jnp.max(bound(p, q, others)), t_star=t_star)

    def gaussian():
        m1, s1, m2, s2 = GAUSS
        x = jnp.linspace(-12.0, 12.0, 8_001)  # beyond, p/q under- or overflows float32
        logp = -0.5 * ((x - m1) / s1) ** 2 - math.log(s1 * math.sqrt(2 * math.pi))
        logq = -0.5 * ((x - m2) / s2) ** 2 - math.log(s2 * math.sqrt(2 * math.pi))
        t = f_prime(jnp.exp(logp - logq))
        return dict(quadrature=jnp.trapezoid(jnp.exp(logp) * t - jnp.exp(logq) * fdiv.conjugate(t), x),
                    closed=GAUSSIAN[name](*GAUSS))

    def distance_at_optimum(t_star):
        # Critic outputs v* = g_f⁻¹(T*) on the three atoms of the first pair, as samples.
        v_star = _bisect(fdiv.activation, t_star[:3])
        d = fgan_distance(fdiv)
        loss = lambda v: d.critic_loss(v[REAL_IDX], v[FAKE_IDX])
        return dict(critic_loss=loss(v_star), grad=jax.grad(loss)(v_star),
                    generator_loss=d.generator_loss(v_star[REAL_IDX], v_star[FAKE_IDX]))

    def extremes():
        d = fgan_distance(fdiv)
        total = lambda r, f: d.critic_loss(r, f) + d.generator_loss(r, f)
        out = {}
        for scale in (30.0, 1e4):
            v = scale * jnp.array([-1.0, 1.0, 0.5, -0.5])
            out[scale] = (d.critic_loss(v, v[::-1]),) + jax.grad(total, argnums=(0, 1))(v, v[::-1])
        return out

    def compute():
        u = jnp.linspace(0.01, 5.0, 200)
        t = fdiv.activation(jnp.linspace(-3.0, 3.0, 9))
        grid = jnp.concatenate([jnp.array([0.0, 1.0]), jnp.logspace(-7, 7, 100_001)])
        values = t[:, None] * grid[None, :] - fdiv.f(grid)[None, :]
        v_mid = jnp.linspace(-6.0, 6.0, 25)  # beyond, the plain composition loses digits to cancellation
        out = dict(f1=fdiv.f(jnp.float32(1.0)), f_u=fdiv.f(u), u=u, grad1=jax.grad(fdiv.f)(1.0),
                   conjugate=fdiv.conjugate(t), numerical_conjugate=jnp.max(jnp.where(jnp.isnan(values), -jnp.inf,
                                                                                       values), axis=1),
                   composed=fdiv.conjugate_activation(v_mid), plain=fdiv.conjugate(fdiv.activation(v_mid)),
                   activation=fdiv.activation(jnp.asarray(V_ALL)),
                   discrete=jax.vmap(discrete)(jnp.asarray(PAIRS[:, 0]), jnp.asarray(PAIRS[:, 1])),
                   extremes=extremes())
        out["distance"] = distance_at_optimum(out["discrete"]["t_star"][0])
        if name in GAUSSIAN:
            out["gaussian"] = gaussian()
        return out

    return jax.tree_util.tree_map(np.asarray, jax.jit(compute)())


def test_table_is_complete_and_registered():
    assert set(FDIVERGENCES) == {"tv", "kl", "reverse_kl", "pearson", "neyman", "hellinger", "jeffrey", "js",
                                 "weighted_js", "gan", "alpha"}
    for name, fdiv in FDIVERGENCES.items():
        d = DISTANCES[f"fgan_{name}"]
        assert d.zero_sum and d.name == f"fgan_{name}" and get_fdivergence(name) is fdiv
    with pytest.raises(ValueError, match="unknown f-divergence"):
        get_fdivergence("kullback")


@pytest.mark.parametrize("name", sorted(FDIVS))
def test_f_is_normalized_convex_with_stated_derivative_at_one(name):
    fdiv, r = FDIVS[name], table_values(name)
    f1 = -math.log(4.0) if name == "gan" else 0.0  # the GAN row is 2·JSD − log 4
    np.testing.assert_allclose(r["f1"], f1, atol=1e-6)
    # Supporting line at 1 with slope f′(1) (a subgradient at TV's kink): f(u) >= f(1) + f′(1)(u − 1).
    assert np.all(r["f_u"] >= f1 + fdiv.f_prime_one * (r["u"] - 1.0) - 1e-6)
    if name != "tv":
        np.testing.assert_allclose(r["grad1"], fdiv.f_prime_one, atol=1e-6)


@pytest.mark.parametrize("name", sorted(FDIVS))
def test_conjugate_is_the_numerical_convex_conjugate(name):
    """f*(t) = sup_{u >= 0} (t·u − f(u)) on a dense grid, at points t = g_f(v) of the domain."""
    r = table_values(name)
    np.testing.assert_allclose(r["conjugate"], r["numerical_conjugate"], rtol=2e-4, atol=2e-4)


@pytest.mark.parametrize("name", sorted(FDIVS))
def test_activation_maps_all_reals_into_the_domain(name):
    (lo, hi), t = FDIVS[name].domain, table_values(name)["activation"]
    # In floating point g_f can round onto an open end (log σ(1e4) = 0): a closed check on all of
    # v ∈ ±[1e-3, 1e4], and strictly inside for moderate outputs.
    assert np.all((t >= lo) & (t <= hi))
    moderate = np.abs(V_ALL) <= 10
    assert np.all(((t > lo) & (t < hi))[moderate])


@pytest.mark.parametrize("name", sorted(FDIVS))
def test_stable_composition_equals_conjugate_of_activation(name):
    r = table_values(name)
    np.testing.assert_allclose(r["composed"], r["plain"], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", sorted(FDIVS))
def test_optimal_critic_attains_the_divergence_and_others_stay_below_discrete(name):
    r = table_values(name)["discrete"]
    np.testing.assert_allclose(r["by_f"], r["closed"], rtol=1e-5, atol=1e-6)  # D_f = E_Q f(p/q)
    np.testing.assert_allclose(r["at_optimum"], r["closed"], rtol=1e-4, atol=1e-5)
    assert np.all(r["best_other"] <= r["closed"] + 1e-5)


@pytest.mark.parametrize("name", sorted(GAUSSIAN))
def test_optimal_critic_attains_the_divergence_gaussian(name):
    """P = N(0.3, 1), Q = N(−0.2, 1.2²): ∫ p·T* − q·f*(T*) dx by quadrature equals the closed form."""
    r = table_values(name)["gaussian"]
    np.testing.assert_allclose(r["quadrature"], r["closed"], rtol=2e-4, atol=1e-5)


@pytest.mark.parametrize("name", sorted(set(FDIVS) - {"tv"}))  # TV's optimal critic sits on dom f*'s boundary
def test_fgan_distance_inner_maximum_is_the_divergence(name):
    """Through the Distance: at critic outputs v* = g_f⁻¹(f′(p/q)) the critic's loss is −D_f and stationary."""
    r, closed = table_values(name)["distance"], table_values(name)["discrete"]["closed"][0]
    np.testing.assert_allclose(-r["critic_loss"], closed, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(r["grad"], 0.0, atol=2e-4)
    np.testing.assert_allclose(r["generator_loss"], -r["critic_loss"])  # zero-sum


@pytest.mark.parametrize("name", sorted(FDIVS))
def test_fgan_losses_have_finite_gradients_at_extreme_outputs(name):
    r = table_values(name)["extremes"]
    for scale in (30.0, 1e4) if name in POLYNOMIAL else (30.0,):
        assert all(np.all(np.isfinite(x)) for x in r[scale]), scale


def test_js_is_weighted_js_at_half_and_alpha_special_cases():
    u, t = jnp.linspace(0.0, 4.0, 41), jnp.linspace(-1.5, 0.3, 19)
    half = weighted_jensen_shannon(0.5)
    np.testing.assert_allclose(FDIVERGENCES["js"].f(u), half.f(u), atol=1e-7)
    np.testing.assert_allclose(FDIVERGENCES["js"].conjugate(t), half.conjugate(t), atol=1e-7)
    # α = 2: ½·Pearson, so f*_α(t) = ½·f*_P(2t); α = ½: 2·squared Hellinger, f*_α(t) = 2·f*_H(t/2).
    np.testing.assert_allclose(alpha_divergence(2.0).f(u), 0.5 * FDIVERGENCES["pearson"].f(u), atol=1e-6)
    np.testing.assert_allclose(alpha_divergence(2.0).conjugate(t), 0.5 * FDIVERGENCES["pearson"].conjugate(2 * t),
                               atol=1e-6)
    np.testing.assert_allclose(alpha_divergence(0.5).f(u), 2.0 * FDIVERGENCES["hellinger"].f(u), atol=1e-5)
    np.testing.assert_allclose(alpha_divergence(0.5).conjugate(t), 2.0 * FDIVERGENCES["hellinger"].conjugate(t / 2),
                               rtol=1e-5, atol=1e-6)


def test_parametrized_families_reject_bad_parameters():
    for bad in (0.0, 1.0, math.inf):
        with pytest.raises(ValueError, match="alpha"):
            alpha_divergence(bad)
    for bad in (0.0, 1.0, -0.2):
        with pytest.raises(ValueError, match="pi"):
            weighted_jensen_shannon(bad)
    with pytest.raises(TypeError, match="Python number"):
        jax.jit(lambda a: alpha_divergence(a).f(2.0))(1.5)
    # π may be traced (a sweep over π is one compilation).
    np.testing.assert_allclose(jax.jit(lambda pi: weighted_jensen_shannon(pi).f(3.0))(0.5),
                               FDIVERGENCES["js"].f(3.0), rtol=1e-6)


def test_fgan_distance_rejects_bad_inputs():
    with pytest.raises(TypeError, match="FDivergence"):
        fgan_distance("kl")
    with pytest.raises(ValueError, match="critic outputs must have shape"):
        DISTANCES["fgan_kl"].critic_loss(jnp.zeros((4, 1)), jnp.zeros((4, 1)))
