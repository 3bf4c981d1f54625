"""minimax.ot: couplings against brute force, SciPy and closed forms; errors; jit/vmap invariance."""
import functools
import itertools
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.linalg import sqrtm
from scipy.optimize import linear_sum_assignment

from minimax import ot


def _points(seed, n, d, shift=0.0):
    return (np.random.default_rng(seed).standard_normal((n, d)) + shift).astype(np.float32)


def _brute_force(x, y):
    C = ((x[:, None].astype(np.float64) - y[None]) ** 2).sum(-1)
    n = len(x)
    return min(C[np.arange(n), list(p)].mean() for p in itertools.permutations(range(n)))


@pytest.mark.parametrize("n", [1, 2, 4, 7])
def test_assignment_equals_brute_force(n):
    x, y = _points(n, n, 3), _points(100 + n, n, 3, shift=0.5)
    out = ot.assignment(x, y)
    assert sorted(np.asarray(out.perm).tolist()) == list(range(n))
    np.testing.assert_allclose(out.cost, _brute_force(x, y), rtol=1e-5)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_assignment_equals_brute_force_random_clouds(seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (6, 2)).astype(np.float32)
    y = (rng.uniform(-1, 1, (6, 2)) * rng.uniform(0.1, 3)).astype(np.float32)
    np.testing.assert_allclose(ot.assignment(x, y).cost, _brute_force(x, y), rtol=1e-5, atol=1e-6)


def test_assignment_equals_scipy_n200():
    x, y = _points(0, 200, 5), _points(1, 200, 5, shift=1.0)
    C = ((x[:, None].astype(np.float64) - y[None]) ** 2).sum(-1)
    rows, cols = linear_sum_assignment(C)
    out = ot.assignment(x, y)
    np.testing.assert_allclose(out.cost, C[rows, cols].mean(), rtol=1e-5)
    np.testing.assert_allclose(C[np.arange(200), np.asarray(out.perm)].mean(), C[rows, cols].mean(), rtol=1e-5)


def test_one_dimensional_coupling_pairs_sorted_samples():
    rng = np.random.default_rng(2)  # gaps >= 0.5 between values: no near-ties in float32
    x = (rng.permutation(50) + rng.uniform(-0.25, 0.25, 50)).astype(np.float32)
    y = (3 * rng.permutation(50) + rng.uniform(-0.25, 0.25, 50) - 40).astype(np.float32)
    perm = np.asarray(ot.assignment(x, y).perm)
    order = np.argsort(x)
    np.testing.assert_array_equal(y[perm[order]], np.sort(y))  # i-th smallest x ↔ i-th smallest y


def _gelbrich(m1, S1, m2, S2):
    r = np.real(sqrtm(S2))
    return np.sum((m1 - m2) ** 2) + np.trace(S1 + S2 - 2 * np.real(sqrtm(r @ S1 @ r)))


def _gaussian_samples(rng, n, mean, cov):
    """Samples whitened to have exactly the given mean and covariance (population form)."""
    e = rng.standard_normal((n, len(mean)))
    e -= e.mean(0)
    e = e @ np.linalg.inv(np.linalg.cholesky(e.T @ e / n)).T
    return (mean + e @ np.linalg.cholesky(cov).T).astype(np.float32)


def test_w2_between_gaussian_samples_approaches_closed_form():
    """Empirical measures with moments (m, Σ) have W₂² >= the Gaussian closed form (Gelbrich 1990),
    with equality for Gaussians; the gap shrinks as n grows."""
    m1, S1 = np.array([0.0, 0.0]), np.array([[1.0, 0.3], [0.3, 0.5]])
    m2, S2 = np.array([1.0, -0.5]), np.array([[0.5, -0.2], [-0.2, 1.5]])
    closed = _gelbrich(m1, S1, m2, S2)
    rng = np.random.default_rng(0)
    gaps = []
    for n in (32, 256):
        x, y = _gaussian_samples(rng, n, m1, S1), _gaussian_samples(rng, n, m2, S2)
        gaps.append(float(ot.w2_squared(x, y)) / closed - 1)
    assert -1e-4 < gaps[1] < gaps[0]
    assert gaps[1] < 0.06


def test_sinkhorn_marginals_and_convergence_to_exact():
    x, y = _points(4, 60, 3), _points(5, 60, 3, shift=0.7)
    exact = float(ot.assignment(x, y).cost)
    costs = []
    for eps in (1e-1, 1e-2, 1e-3):
        out = ot.sinkhorn(x, y, epsilon=eps, relative_epsilon=True, threshold=1e-4, max_iterations=20_000)
        assert bool(out.converged)
        np.testing.assert_allclose(out.plan.sum(1), np.full(60, 1 / 60), atol=1e-4)
        np.testing.assert_allclose(out.plan.sum(0), np.full(60, 1 / 60), atol=1e-4)
        costs.append(float(out.cost))
    errors = [abs(c - exact) / exact for c in costs]
    assert errors[0] > errors[1] > errors[2] and errors[2] < 2e-3


def test_sinkhorn_unequal_weighted_marginals_and_epsilon_scaling():
    x, y = _points(6, 30, 2), _points(7, 45, 2, shift=1.0)
    a = np.random.default_rng(8).uniform(0.5, 1.5, 30).astype(np.float32)
    a /= a.sum()
    b = np.full(45, 1 / 45, np.float32)
    plain = ot.sinkhorn(x, y, epsilon=0.05, a=a, b=b, threshold=1e-5, max_iterations=20_000)
    scaled = ot.sinkhorn(x, y, epsilon=0.05, a=a, b=b, epsilon_init=50.0, epsilon_decay=0.9, threshold=1e-5,
                         max_iterations=20_000)
    for out in (plain, scaled):
        assert bool(out.converged) and float(out.marginal_error) <= 1e-5
        np.testing.assert_allclose(out.plan.sum(1), a, atol=1e-5)
        np.testing.assert_allclose(out.plan.sum(0), b, atol=1e-5)
    assert int(scaled.iterations) >= 38  # ε_t = ε·max(50·0.9^t, 1) reaches ε after 38 steps
    np.testing.assert_allclose(scaled.cost, plain.cost, rtol=1e-4)
    # regularized cost = <P, C> + ε KL(P | a bᵀ) >= <P, C>
    assert float(plain.reg_cost) >= float(plain.cost)


def test_sinkhorn_fixed_iterations_vmap_equals_loop():
    xs = np.stack([_points(s, 20, 2) for s in range(4)])
    ys = np.stack([_points(10 + s, 20, 2, shift=s) for s in range(4)])
    solve = functools.partial(ot.sinkhorn, epsilon=0.1, iterations=200)
    batched = jax.jit(jax.vmap(solve))(xs, ys)
    assert np.all(np.asarray(batched.iterations) == 200)
    for i in range(4):
        one = solve(xs[i], ys[i])
        np.testing.assert_allclose(batched.plan[i], one.plan, rtol=1e-4, atol=1e-7)
        np.testing.assert_allclose(batched.cost[i], one.cost, rtol=1e-5)


def test_assignment_jit_vmap_invariance_and_determinism():
    xs = np.stack([_points(s, 12, 3) for s in range(3)])
    ys = np.stack([_points(20 + s, 12, 3, shift=0.3) for s in range(3)])
    batched = jax.jit(jax.vmap(ot.assignment))(xs, ys)
    for i in range(3):
        one = ot.assignment(xs[i], ys[i])
        np.testing.assert_array_equal(batched.perm[i], one.perm)
        np.testing.assert_allclose(batched.cost[i], one.cost, rtol=1e-6)
    np.testing.assert_array_equal(ot.assignment(xs[0], ys[0]).perm, ot.assignment(xs[0], ys[0]).perm)


def test_regression_pairs():
    x, g = _points(30, 8, 4), _points(31, 8, 4)
    perm = ot.assignment(x, g).perm
    plan = ot.permutation_plan(perm)
    for method in ("barycentric", "argmax"):
        targets, weights = ot.regression_pairs(plan, x, method=method)
        np.testing.assert_allclose(targets[np.asarray(perm)], x, rtol=1e-6, atol=1e-6)  # t_σ(i) = x_i
        np.testing.assert_allclose(weights, np.full(8, 1 / 8))
    # barycentric decomposition: Σ P_ij ‖x_i − g_j‖² = Σ_j w_j ‖t_j − g_j‖² + Σ P_ij ‖x_i − t_j‖²
    sk = ot.sinkhorn(x, g, epsilon=1.0)
    t, w = ot.regression_pairs(sk.plan, x)
    sq = lambda a, b: ((a[:, None] - b[None]) ** 2).sum(-1)
    lhs = float(jnp.sum(sk.plan * sq(x, g)))
    rhs = float(w @ ((t - g) ** 2).sum(1) + jnp.sum(sk.plan * sq(x, t)))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-5)
    sampled, _ = ot.regression_pairs(sk.plan, x, method="sample", key=jax.random.PRNGKey(0))
    assert all(any(np.array_equal(s, xi) for xi in x) for s in np.asarray(sampled))


def test_sinkhorn_divergence_of_a_translation():
    """For y = x + s the cost changes by a separable term, so every OT_ε plan is that of (x, x) and
    S_ε(x, x + s) = ‖s‖² = W₂² for every ε, with ∇_x S_ε = −2s/n; S_ε(x, x) = 0."""
    x = _points(40, 50, 3)
    shift = np.array([1.0, -0.5, 0.25], np.float32)
    loss = lambda p: ot.sinkhorn_divergence(p, x + shift, epsilon=0.1, relative_epsilon=True, threshold=1e-5)
    value, grad = jax.value_and_grad(loss)(jnp.asarray(x))
    np.testing.assert_allclose(value, np.sum(shift ** 2), rtol=1e-4)
    np.testing.assert_allclose(grad, np.broadcast_to(-2 * shift / 50, x.shape), atol=1e-4)
    assert abs(float(ot.sinkhorn_divergence(x, x, epsilon=0.1, relative_epsilon=True, threshold=1e-5))) < 1e-4


def test_clear_errors_before_compute():
    x, y = _points(0, 5, 2), _points(1, 6, 2)
    with pytest.raises(ValueError, match="equal sizes"):
        ot.assignment(x, y)
    with pytest.raises(ValueError, match="same sample shape"):
        ot.sinkhorn(x, _points(1, 5, 3), epsilon=0.1)
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="non-finite.*index 3"):
        ot.assignment(bad, x)
    with pytest.raises(ValueError, match="non-finite"):
        ot.sinkhorn(x, np.where(x > 0, np.inf, x), epsilon=0.1)
    for eps in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="epsilon"):
            ot.sinkhorn(x, y, epsilon=eps)
        with pytest.raises(ValueError, match="epsilon"):
            ot.sinkhorn_divergence(x, y, epsilon=eps)
    with pytest.raises(ValueError, match="`a` must have shape"):
        ot.sinkhorn(x, y, epsilon=0.1, a=np.ones(4) / 4)
    with pytest.raises(ValueError, match="epsilon_decay"):
        ot.sinkhorn(x, y, epsilon=0.1, epsilon_init=10.0)
    with pytest.raises(ValueError, match="method"):
        ot.regression_pairs(np.ones((5, 5)) / 25, x, method="nearest")
    with pytest.raises(ValueError, match="key"):
        ot.regression_pairs(np.ones((5, 5)) / 25, x, method="sample")
    with pytest.raises(ValueError, match="rows"):
        ot.regression_pairs(np.ones((6, 5)) / 30, x)


def test_import_minimax_does_not_import_ott():
    code = "import sys, minimax; print(any(m.split('.')[0] in ('ott', 'jaxopt') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_exact_couplings_and_memorization_work_without_ott_jax_installed():
    """ott-jax is imported only by the entropic solvers: block it and use everything else."""
    code = ("import sys; sys.modules['ott'] = None\n"
            "import jax, numpy as np, minimax\n"
            "from minimax import metrics, ot\n"
            "x = jax.random.normal(jax.random.PRNGKey(0), (6, 3))\n"
            "print(float(ot.assignment(x, x[::-1]).cost), float(metrics.memorization(x, x).fraction))\n"
            "try:\n    ot.sinkhorn(x, x, epsilon=0.1)\nexcept ImportError:\n    print('sinkhorn needs ott')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["0.0", "1.0", "sinkhorn", "needs", "ott"]
