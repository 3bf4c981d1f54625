"""minimax.metrics.memorization (exact matching, per-pixel tolerance, jit/vmap) and distinct_nearest."""
import jax
import numpy as np
import pytest

from minimax.data import mnist32
from minimax.metrics import MEMORIZATION_TOL, distinct_nearest, memorization


def test_permuted_copies_are_fully_memorized():
    x, _ = mnist32()
    order = np.random.default_rng(0).permutation(32)
    out = memorization(np.asarray(x)[order], x)
    assert float(out.fraction) == 1.0 and float(out.mean_distance) == 0.0
    np.testing.assert_array_equal(np.asarray(order)[np.asarray(out.perm)], np.arange(32))  # g_perm[i] = x_i


def test_tolerance_is_per_pixel_max_abs():
    x, _ = mnist32()
    x = np.asarray(x)
    g = x.copy()
    g[:8, 100] += 0.09   # within the 0.1 tolerance
    g[8:16, 200] -= 0.2  # one pixel off by 0.2: not reproduced
    g[16:] = 0.5         # a grey square for the other half
    out = memorization(g, x)
    assert MEMORIZATION_TOL == 0.1
    np.testing.assert_allclose(out.fraction, 8 / 32)
    assert float(memorization(g, x, tol=0.25).fraction) == 16 / 32
    matched = g[np.asarray(out.perm)]
    np.testing.assert_allclose(out.mean_distance, np.linalg.norm(x - matched, axis=1).mean(), rtol=1e-5)
    np.testing.assert_allclose(out.max_abs_diff, np.abs(x - matched).max(1), rtol=1e-6)


def test_memorization_jit_and_vmap():
    x, _ = mnist32()
    gs = np.stack([np.asarray(x)[::-1], np.clip(np.asarray(x) + 0.3, 0, 1)])
    batched = jax.jit(jax.vmap(memorization, in_axes=(0, None)))(gs, x)
    np.testing.assert_allclose(batched.fraction, [1.0, 0.0])
    for i in range(2):
        np.testing.assert_allclose(batched.mean_distance[i], memorization(gs[i], x).mean_distance, rtol=1e-5)


def test_memorization_needs_equal_sizes():
    x, _ = mnist32()
    with pytest.raises(ValueError, match="equal sizes"):
        memorization(x[:31], x)


def test_distinct_nearest_counts_collapse_and_coverage():
    x = np.asarray(mnist32()[0])
    rng = np.random.default_rng(1)
    assert int(distinct_nearest(x[rng.permutation(32)], x)) == 32       # every digit reproduced
    assert int(distinct_nearest(np.repeat(x[5:6], 32, 0), x)) == 1        # full collapse onto one digit
    assert int(distinct_nearest(np.full_like(x, 0.5) + 1e-3 * rng.normal(size=x.shape), x)) == 1  # one grey blob
    # brute force on perturbed copies of 10 of the digits and random samples: |{argmin_i ‖g_j − x_i‖}|
    g = np.concatenate([x[:10] + 0.05 * rng.normal(size=(10, 784)), rng.uniform(size=(22, 784))]).astype(np.float32)
    brute = len({int(np.argmin(((x - gj) ** 2).sum(1))) for gj in g})
    assert int(distinct_nearest(g, x)) == brute
    batched = jax.jit(jax.vmap(distinct_nearest, in_axes=(0, None)))(np.stack([g, x, x[:1].repeat(32, 0)]), x)
    np.testing.assert_array_equal(batched, [brute, 32, 1])


def test_distinct_nearest_needs_equal_sample_sizes():
    x = np.asarray(mnist32()[0])
    with pytest.raises(ValueError, match="distinct_nearest: `generated` has samples of size 783"):
        distinct_nearest(x[:, :783], x)
