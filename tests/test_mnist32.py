"""The MNIST-32 memorization experiment: vmapped sweep = single runs, and its CLI outputs."""
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from minimax import cli, train
from minimax.data import mnist32
from minimax.experiments.mnist32 import make_run_one


def test_the_vmapped_sweep_equals_single_runs_and_is_deterministic():
    data, _ = mnist32()
    latents = jax.random.normal(jax.random.PRNGKey(0), (32, 4))
    run_one = make_run_one("zero_infinity", "eg", data=data, latents=latents, optimizer="sgd", steps=6,
                           record_every=3, width=8)
    hp = train.hyperparameter_grid(lr=[1e-3], tau=[1.0, 5.0])
    keys = jax.random.split(jax.random.PRNGKey(1), 2)
    traj, diverged, samples = train.sweep(run_one, hp, keys)
    assert traj["mean_matched_distance"].shape == (2, 2, 3) and samples.shape == (2, 2, 32, 784)
    for h in range(2):
        for s in range(2):
            one = jax.jit(run_one)({k: v[h] for k, v in hp.items()}, keys[s])
            np.testing.assert_allclose(traj["mean_matched_distance"][h, s], one[0]["mean_matched_distance"], rtol=1e-4)
            np.testing.assert_allclose(samples[h, s], one[2], atol=1e-5)
    again = train.sweep(run_one, hp, keys)
    assert np.array_equal(again[2], samples)
    # The initial generator is the same for both τ, and τ changes the trajectory afterwards.
    np.testing.assert_array_equal(traj["mean_matched_distance"][0, :, 0], traj["mean_matched_distance"][1, :, 0])
    assert float(jnp.max(jnp.abs(samples[0] - samples[1]))) > 1e-6


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("mnist32")
    assert cli.main(["mnist32", "--quick", "--steps", "20", "--out", str(out)]) == 0
    with open(out / "mnist32.json") as f:
        return out, json.load(f)


def test_quick_run_writes_the_table_and_figures(quick_run):
    out, doc = quick_run
    rows = doc["rows"]
    assert {(r["distance"], r["method"], r["tau"]) for r in rows} == {
        (d, m, t) for d in ("js", "zero_infinity") for m in ("gda", "eg") for t in (1.0, 5.0)}
    for r in rows:
        assert {"distance", "method", "tau", "seeds", "memorized_fraction_mean", "memorized_fraction_min",
                "diverged"} <= set(r)
        assert 0 <= r["memorized_fraction_min"] <= r["memorized_fraction_mean"] <= r["memorized_fraction_max"] <= 1
        assert r["seeds"] == 2 and len(r["memorized_fraction_trajectory_mean"]) == len(doc["config"]["record_steps"])
    for name in ("mnist32.csv", "mnist32_samples.png", "mnist32_memorization.png", "mnist32_matched_distance.png"):
        assert (out / name).stat().st_size > 0


@pytest.mark.parametrize("args,needle", [(["--steps", "0"], "--steps"), (["--methods", "adamw"], "unknown method"),
                                         (["--lr", "-1"], "--lr")])
def test_bad_arguments_are_one_line_errors(args, needle, capsys):
    assert cli.main(["mnist32", "--quick"] + args) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1
