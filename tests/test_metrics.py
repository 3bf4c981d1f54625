"""minimax.metrics.memorization: exact matching, per-pixel tolerance, jit/vmap."""
import jax
import numpy as np
import pytest

from minimax.data import mnist32
from minimax.metrics import MEMORIZATION_TOL, memorization


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
