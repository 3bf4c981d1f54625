"""Scanned runs, vmapped sweeps, divergence handling, determinism and sharding."""
import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from minimax import Players, games, train, updates

GAME = games.dirac_gan("zero_infinity")
KEYS = jax.random.split(jax.random.PRNGKey(42), 6)


def eg_run(hp, key, steps=300, record_every=50):
    k_init, k_run = jax.random.split(key)
    inner = optax.chain(updates.two_timescale(hp["tau"]), optax.sgd(hp["lr"]))
    return train.run(GAME, updates.extragradient(inner), GAME.sample_init(k_init), k_run, steps=steps,
                     record_every=record_every)


def test_run_records_the_initial_point_and_every_k_steps():
    res = eg_run({"lr": 0.2, "tau": 1.0}, KEYS[0])
    d = np.asarray(res.trajectory["distance"])
    assert d.shape == (300 // 50 + 1,)
    p0 = GAME.sample_init(jax.random.split(KEYS[0])[0])
    np.testing.assert_allclose(d[0], np.hypot(p0.min, p0.max), rtol=1e-6)
    rho = np.sqrt(1 - 0.04 + 0.0016)  # EG on the rotation field: each block contracts by ρ^50
    np.testing.assert_allclose(d[1:] / d[:-1], rho**50, rtol=1e-3)


def test_bad_step_counts_are_rejected_before_compute():
    with pytest.raises(ValueError, match="steps"):
        eg_run({"lr": 0.2, "tau": 1.0}, KEYS[0], steps=0)
    with pytest.raises(ValueError, match="record_every"):
        eg_run({"lr": 0.2, "tau": 1.0}, KEYS[0], steps=100, record_every=30)


def test_sweep_equals_a_loop_over_seeds_and_hyperparameters():
    hp = train.hyperparameter_grid(lr=[0.1, 0.3], tau=[1.0, 4.0])
    assert np.asarray(hp["tau"]).tolist() == [1.0, 4.0, 1.0, 4.0]
    out = train.sweep(eg_run, hp, KEYS)
    assert out.trajectory["distance"].shape == (4, 6, 7)
    for h in range(4):
        for s in range(6):
            one = jax.jit(eg_run)({k: v[h] for k, v in hp.items()}, KEYS[s])
            np.testing.assert_allclose(out.trajectory["distance"][h, s], one.trajectory["distance"], rtol=1e-5, atol=1e-7)


def test_same_key_same_result_bit_for_bit_and_lax_map_batching_agrees():
    hp = train.hyperparameter_grid(lr=[0.2], tau=[2.0])
    a = train.sweep(eg_run, hp, KEYS)
    b = train.sweep(eg_run, hp, KEYS)
    assert all(np.array_equal(x, y) for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)))
    c = train.sweep(eg_run, hp, KEYS, seed_batch_size=2)
    np.testing.assert_allclose(c.trajectory["distance"], a.trajectory["distance"], rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="seed_batch_size"):
        train.sweep(eg_run, hp, KEYS, seed_batch_size=4)


def test_a_diverged_seed_is_flagged_frozen_and_does_not_touch_the_others():
    def run_one(hp, key):
        # Seed 3 starts at 1e38: GDA (radius √1.04) overflows float32 within ~50 steps.
        scale = jnp.where(jnp.all(key == KEYS[3]), 1e38, 1.0)
        p0 = jax.tree_util.tree_map(lambda x: scale * x, GAME.sample_init(key))
        return train.run(GAME, optax.sgd(hp["lr"]), p0, key, steps=200, record_every=20)

    hp = {"lr": jnp.array([0.2])}
    out = train.sweep(run_one, hp, KEYS)
    assert np.flatnonzero(np.asarray(out.diverged[0])).tolist() == [3]
    assert 0 < int(out.diverged_step[0, 3]) <= 200 and int(out.diverged_step[0, 0]) == -1
    assert all(np.all(np.isfinite(x[0, 3])) for x in jax.tree_util.tree_leaves(out.params))  # frozen, finite
    others = [0, 1, 2, 4, 5]
    alone = train.sweep(run_one, hp, KEYS[jnp.array(others)])
    np.testing.assert_array_equal(out.trajectory["distance"][0, others], alone.trajectory["distance"][0])


def test_metrics_are_taken_at_the_averaged_iterate():
    rule = updates.averaging(optax.sgd(0.2))
    res = train.run(GAME, rule, Players(jnp.array(1.0), jnp.array(0.0)), KEYS[0], steps=100, record_every=100,
                    metrics=lambda p, _: {"theta": p.min})
    assert float(res.trajectory["theta"][-1]) == pytest.approx(float(res.eval_params.min))
    assert float(res.eval_params.min) != pytest.approx(float(res.params.min))


def test_hyperparameter_grid_rejects_bad_input():
    with pytest.raises(ValueError, match="lr"):
        train.hyperparameter_grid(lr=[])
    with pytest.raises(ValueError, match="common leading axis"):
        train.sweep(eg_run, {"lr": jnp.array([0.1, 0.2]), "tau": jnp.array([1.0])}, KEYS)


def test_seed_axis_shards_across_four_host_devices():
    code = textwrap.dedent("""
        import jax, numpy as np, optax
        from minimax import games, train, updates
        assert len(jax.devices()) == 4
        g = games.dirac_gan("zero_infinity")
        def run_one(hp, key):
            return train.run(g, updates.extragradient(optax.sgd(hp["lr"])), g.sample_init(key), key,
                             steps=100, record_every=50).trajectory["distance"]
        hp = train.hyperparameter_grid(lr=[0.2, 0.3])
        keys = jax.random.split(jax.random.PRNGKey(0), 8)
        sharded = train.sweep(run_one, hp, keys, devices=jax.devices())
        plain = train.sweep(run_one, hp, keys)
        assert len(sharded.sharding.device_set) == 4, sharded.sharding
        np.testing.assert_allclose(sharded, plain, rtol=1e-6)
        try:
            train.sweep(run_one, hp, keys[:6], devices=jax.devices())
        except ValueError as err:
            assert "multiple of the number of devices" in str(err)
        else:
            raise AssertionError("6 seeds on 4 devices must be rejected")
        print("OK")
    """)
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and "OK" in out.stdout, out.stderr[-2000:]
