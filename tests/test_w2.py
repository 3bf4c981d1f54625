"""minimax.ot.w2_regression: the bound is an upper bound, it reaches ~0 on 32 MNIST digits, the
trainer is deterministic and vmap-invariant; and the ``minimax w2`` command."""
import functools
import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from minimax import cli, ot
from minimax.data import mnist32, ring8
from minimax.metrics import memorization


def mlp(sizes):
    """A plain-function MLP generator (tanh hidden layers): (init(key), apply(params, z))."""
    def init(key):
        keys = jax.random.split(key, len(sizes) - 1)
        return [(jax.random.normal(k, (a, b)) / np.sqrt(a), jnp.zeros(b)) for k, a, b in zip(keys, sizes, sizes[1:])]

    def apply(params, z):
        for W, b in params[:-1]:
            z = jnp.tanh(z @ W + b)
        W, b = params[-1]
        return z @ W + b
    return init, apply


def test_w2_regression_memorizes_32_mnist_digits():
    """Exact coupling at θ₀, then regression: the bound goes to ~0 and every digit is reproduced."""
    x, _ = mnist32()
    init, apply = mlp([32, 256, 784])
    z = jax.random.normal(jax.random.PRNGKey(1), (32, 32))
    run = jax.jit(functools.partial(ot.w2_regression, apply, optimizer=optax.adam(1e-3), steps=800,
                                    latents=z, record_every=100, record_exact=True))
    result = run(init(jax.random.PRNGKey(2)), x, jax.random.PRNGKey(3))
    bound, exact = np.asarray(result.trajectory["w2_bound"]), np.asarray(result.trajectory["w2_exact"])
    assert bound.shape == (9,) and np.asarray(result.trajectory["step"]).tolist() == list(range(0, 801, 100))
    assert np.all(bound >= exact * (1 - 1e-5))  # W₂² <= E_α‖x − G(z)‖² at every record
    assert bound[-1] < 1e-6 * bound[0]
    mem = memorization(apply(result.params, z), x)
    assert float(mem.fraction) == 1.0 and float(mem.mean_distance) < 1e-2


@pytest.mark.parametrize("coupling, pairs", [("exact", "barycentric"), ("sinkhorn", "sample")])
def test_bound_upper_bounds_exact_w2_when_recomputed(coupling, pairs):
    data = ring8().sample(jax.random.PRNGKey(0), 16)
    init, apply = mlp([4, 32, 2])
    z = jax.random.normal(jax.random.PRNGKey(1), (16, 4))
    run = jax.jit(functools.partial(ot.w2_regression, apply, optimizer=optax.adam(3e-2), steps=60, latents=z,
                                    coupling=coupling, pairs=pairs, epsilon=0.01, recompute_every=7,
                                    record_every=3, record_exact=True))
    result = run(init(jax.random.PRNGKey(2)), data, jax.random.PRNGKey(3))
    bound, exact = np.asarray(result.trajectory["w2_bound"]), np.asarray(result.trajectory["w2_exact"])
    # a Sinkhorn plan meets its marginals to 1e-3 (L1), which can cost up to 1e-3 · max C_ij
    slack = 1e-5 * exact if coupling == "exact" else 1e-3 * 4 * 4.0 ** 2
    assert np.all(bound >= exact - slack)
    assert bound[-1] < 0.2 * bound[0]


def test_minibatch_ot_with_fresh_latents():
    data = ring8().sample(jax.random.PRNGKey(0), 64)
    init, apply = mlp([4, 32, 2])
    sampler = lambda key: jax.random.normal(key, (16, 4))
    run = jax.jit(functools.partial(ot.w2_regression, apply, optimizer=optax.adam(3e-2), steps=100,
                                    latents=sampler, recompute_every=10, record_every=10, record_exact=True))
    result = run(init(jax.random.PRNGKey(2)), data, jax.random.PRNGKey(3))
    batch = np.asarray(result.batch)
    assert batch.shape == (16, 2) and len({tuple(r) for r in batch}) == 16
    assert all(any(np.array_equal(r, d) for d in np.asarray(data)) for r in batch)
    bound = np.asarray(result.trajectory["w2_bound"])
    assert np.all(bound >= np.asarray(result.trajectory["w2_exact"]) * (1 - 1e-5)) and bound[-1] < bound[0]


def test_determinism_and_vmap_invariance():
    data = ring8().sample(jax.random.PRNGKey(0), 8)
    init, apply = mlp([3, 16, 2])

    def run(key):
        k_z, k_p, k_run = jax.random.split(key, 3)
        z = jax.random.normal(k_z, (8, 3))
        return ot.w2_regression(apply, init(k_p), data, k_run, optimizer=optax.sgd(0.05), steps=20,
                                latents=z, recompute_every=5, record_every=10)

    keys = jax.random.split(jax.random.PRNGKey(5), 3)
    run_batch, run_single = jax.jit(jax.vmap(run)), jax.jit(run)
    batched = run_batch(keys)
    np.testing.assert_array_equal(batched.trajectory["w2_bound"], run_batch(keys).trajectory["w2_bound"])
    for i in range(3):
        single = run_single(keys[i])
        np.testing.assert_allclose(batched.trajectory["w2_bound"][i], single.trajectory["w2_bound"], rtol=1e-5)
        for a, b in zip(jax.tree_util.tree_leaves(single.params), jax.tree_util.tree_leaves(batched.params)):
            np.testing.assert_allclose(b[i], a, rtol=1e-5, atol=1e-6)


def test_w2_regression_errors():
    data = np.zeros((8, 2), np.float32)
    init, apply = mlp([3, 2])
    params, key, z = init(jax.random.PRNGKey(0)), jax.random.PRNGKey(1), np.ones((8, 3), np.float32)
    kw = dict(optimizer=optax.sgd(0.1), steps=10)
    with pytest.raises(ValueError, match="recompute_every"):
        ot.w2_regression(apply, params, data, key, latents=lambda k: jax.random.normal(k, (8, 3)), **kw)
    with pytest.raises(ValueError, match="as many data points as latents"):
        ot.w2_regression(apply, params, data, key, latents=z[:6], **kw)
    with pytest.raises(ValueError, match="generator maps latents"):
        ot.w2_regression(mlp([3, 5])[1], mlp([3, 5])[0](key), data, key, latents=z, **kw)
    with pytest.raises(ValueError, match="must divide"):
        ot.w2_regression(apply, params, data, key, latents=z, record_every=3, **kw)
    with pytest.raises(ValueError, match="coupling"):
        ot.w2_regression(apply, params, data, key, latents=z, coupling="greedy", **kw)
    with pytest.raises(ValueError, match="non-finite"):
        ot.w2_regression(apply, params, np.full((8, 2), np.nan, np.float32), key, latents=z, **kw)
    with pytest.raises(ValueError, match="epsilon"):
        ot.w2_regression(apply, params, data, key, latents=z, coupling="sinkhorn", epsilon=0.0, **kw)


def test_cli_w2_quick(tmp_path, capsys):
    assert cli.main(["w2", "--quick", "--couplings", "exact", "--seeds", "1", "--out", str(tmp_path)]) == 0
    rows = json.load(open(tmp_path / "w2.json"))["rows"]
    assert [r["coupling"] for r in rows] == ["exact"]
    row = rows[0]
    assert row["steps"] == 300 and row["memorized_fraction"] == 1.0 and row["w2_bound_final"] < 0.1
    assert (tmp_path / "w2.csv").exists() and (tmp_path / "w2_samples.png").stat().st_size > 0
    assert "memorized_fraction" in capsys.readouterr().out
    assert cli.main(["w2", "--data", "cifar10", "--out", str(tmp_path)]) == 2
    assert cli.main(["w2", "--couplings", "greedy", "--out", str(tmp_path)]) == 2
