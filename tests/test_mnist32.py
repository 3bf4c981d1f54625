"""The MNIST-32 memorization experiment: vmapped sweep = single runs, and its CLI outputs."""
import json
from functools import partial

import jax
import jax.numpy as jnp
import jax.flatten_util
import numpy as np
import pytest

from minimax import cli, diagnostics, train
from minimax.data import load_mnist_subset, mnist32
from minimax.experiments import common
from minimax.experiments.mnist32 import (KRYLOV_DIM, build_game, continuous_time, digits, make_rule,
                                         memorization_metrics, run_configuration)


@pytest.mark.slow  # ~60 s on the 2-core CPU (compilation); tests/test_stiffness.py checks sweep = single runs in CI
def test_the_sweep_equals_single_runs_and_is_deterministic():
    data, _ = mnist32()
    latents = jax.random.normal(jax.random.PRNGKey(0), (32, 4))
    kwargs = dict(data=data, latents=latents, steps=6, record_every=3, width=8)
    hp = train.hyperparameter_grid(c=[0.5], tau=[1.0, 5.0])  # the stiffness-adaptive step
    keys = jax.random.split(jax.random.PRNGKey(1), 2)
    traj, diverged, samples, _ = run_configuration("zero_infinity", "eg", hp, keys, **kwargs)
    assert traj["mean_matched_distance"].shape == (2, 2, 3) and samples.shape == (2, 2, 32, 784)
    game, generator, _ = build_game("zero_infinity", data, latents, 8)
    single = jax.jit(lambda p, hp, k: train.run(game, make_rule("eg")(hp), p, k, steps=6, record_every=3,
                                                metrics=memorization_metrics(generator)))  # one compilation
    for h in range(2):
        for s in range(2):
            k_init, k_run = jax.random.split(keys[s])
            one = single(game.sample_init(k_init), {k: v[h] for k, v in hp.items()}, k_run)
            for name in ("mean_matched_distance", "stiffness", "critic_norm"):
                np.testing.assert_allclose(traj[name][h, s], one.trajectory[name], rtol=1e-4)
    again = run_configuration("zero_infinity", "eg", hp, keys, **kwargs)
    assert np.array_equal(again[2], samples)
    # The initial generator is the same for both τ, and τ changes the trajectory afterwards.
    np.testing.assert_array_equal(traj["mean_matched_distance"][0, :, 0], traj["mean_matched_distance"][1, :, 0])
    assert float(jnp.max(jnp.abs(samples[0] - samples[1]))) > 1e-6


def test_one_compilation_serves_two_digit_sets_and_the_digits_are_not_constants():
    data, _ = mnist32()
    other = load_mnist_subset(64)[0][32:]  # the next 32 digits
    latents = jax.random.normal(jax.random.PRNGKey(0), (32, 4))
    hp = train.hyperparameter_grid(lr=[1e-3], tau=[1.0])
    keys = jax.random.split(jax.random.PRNGKey(1), 2)
    # strategy "vmap": no timed probe of strategy="auto" (two more compilations, not what this test is about)
    kwargs = dict(latents=latents, steps=4, record_every=2, width=8, sweep=partial(train.sweep, strategy="vmap"))
    a = run_configuration("js", "gda", hp, keys, data=data, **kwargs)
    # The first call compiled its programs: the other digits compile nothing.
    first = dict(train.compile_stats)
    b = run_configuration("js", "gda", hp, keys, data=other, **kwargs)
    assert train.compile_stats["misses"] == first["misses"] and train.compile_stats["hits"] - first["hits"] >= 2
    assert not np.allclose(a[0]["mean_matched_distance"], b[0]["mean_matched_distance"])
    game, _, _ = build_game("js", data, latents, 8)
    state = train.init_state(game, make_rule("gda")({"lr": 1e-3, "tau": 1.0}), game.sample_init(keys[0]))
    step = lambda g, s: train.make_step(g, make_rule("gda")({"lr": 1e-3, "tau": 1.0}))(s, keys[1])
    text = jax.jit(step).lower(game, state).as_text()
    assert len(text) < 400_000  # 32 × 784 digits as a constant would add ≥ 25 000 numbers (≥ 250 kB of text)
    big = game.replace(args=(jnp.tile(data, (16, 1)), jnp.tile(latents, (16, 1))))
    assert abs(len(jax.jit(step).lower(big, state).as_text()) - len(text)) < 2_000


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("mnist32")
    assert cli.main(["mnist32", "--quick", "--steps", "4", "--records", "2", "--methods", "gda", "eg",
                     "--tau", "1", "5", "--out", str(out)]) == 0
    with open(out / "mnist32.json") as f:
        return out, json.load(f)


@pytest.mark.slow  # the fixture compiles 4 sweeps, ~3 min on the 2-core CPU
def test_quick_run_writes_the_table_and_figures(quick_run):
    out, doc = quick_run
    rows = doc["rows"]
    assert {(r["distance"], r["method"], r["tau"]) for r in rows} == {
        (d, m, t) for d in ("js", "zero_infinity") for m in ("gda", "eg") for t in (1.0, 5.0)}
    for r in rows:
        assert {"distance", "method", "tau", "seeds", "memorized_fraction_mean", "memorized_fraction_min",
                "diverged"} <= set(r)
        assert 0 <= r["memorized_fraction_min"] <= r["memorized_fraction_mean"] <= r["memorized_fraction_max"] <= 1
        assert 1 <= r["nearest_digits_min"] <= r["nearest_digits_median"] <= r["nearest_digits_max"] <= 32
        assert r["seeds"] == 2 and len(r["memorized_fraction_trajectory_mean"]) == len(doc["config"]["record_steps"])
    for name in ("mnist32.csv", "mnist32_samples.png", "mnist32_memorization.png", "mnist32_matched_distance.png"):
        assert (out / name).stat().st_size > 0


class StopAfter:
    """Stands in for the CLI's Ctrl-C flag: reports a stop request at its n-th poll."""

    def __init__(self, n):
        self.n, self.polls = n, 0

    def clear(self):
        self.polls = 0

    def is_set(self):
        self.polls += 1
        return self.polls >= self.n


@pytest.mark.slow  # ~3 min on the 2-core CPU; tests/test_cli_dirac.py runs the same Ctrl-C/resume workflow in CI
def test_an_interrupted_then_resumed_run_writes_the_same_rows(tmp_path, monkeypatch, capsys):
    argv = ["mnist32", "--quick", "--steps", "8", "--records", "4", "--methods", "eg", "--tau", "1",
            "--checkpoint-every", "2"]
    assert cli.main(argv + ["--out", str(tmp_path / "whole")]) == 0
    assert json.loads((tmp_path / "whole" / "mnist32.json").read_text())["config"]["record_every"] == 2
    monkeypatch.setattr(common, "STOP", StopAfter(5))  # 3 polls in the first configuration, stops in the second
    assert cli.main(argv + ["--out", str(tmp_path / "cut")]) == 130
    err = capsys.readouterr().err
    assert "resume with: minimax mnist32" in err and "--resume" in err and not (tmp_path / "cut" / "mnist32.json").exists()
    monkeypatch.setattr(common, "STOP", StopAfter(10**9))
    assert cli.main(argv + ["--out", str(tmp_path / "cut"), "--lr", "2e-4", "--resume"]) == 2
    assert "differing: config.lr" in capsys.readouterr().err
    assert cli.main(argv + ["--out", str(tmp_path / "cut"), "--resume"]) == 0
    whole, cut = [json.loads((tmp_path / d / "mnist32.json").read_text())["rows"] for d in ("whole", "cut")]
    # The resumed sweep restores the saved state bit for bit (tests/test_train.py, tests/test_stiffness.py), but
    # CI once saw last-bit float32 differences in these CLI rows: floats must agree to 1e-5, the rest exactly.
    assert [sorted(r) for r in whole] == [sorted(r) for r in cut]
    for a, b in zip(whole, cut):
        for name in a:
            if isinstance(a[name], (float, list)):
                np.testing.assert_allclose(b[name], a[name], rtol=1e-5, atol=1e-7, err_msg=name)
            else:
                assert a[name] == b[name], name


def test_continuous_time_is_the_sum_of_the_steps_taken_up_to_divergence():
    step_size = np.array([[[0.25, 0.125, 1.0]], [[0.2, 0.2, 0.2]]])  # (H=2, S=1, blocks=3) block means of η
    finite, at_step_15 = -1, 15
    np.testing.assert_allclose(continuous_time(step_size, None, 10, 30, np.array([[finite], [finite]])),
                               [[10 * 1.375], [10 * 0.6]])
    # diverged in the second block: that block counts, the third does not
    np.testing.assert_allclose(continuous_time(step_size, None, 10, 30, np.array([[at_step_15], [finite]])),
                               [[10 * 0.375], [10 * 0.6]])
    np.testing.assert_allclose(continuous_time(None, [1e-3, 1e-2], 10, 30, np.array([[finite], [at_step_15]])),
                               [[0.03], [0.15]])


@pytest.mark.slow  # ~35 s (the Arnoldi refresh compiles); test_stiffness checks the step c/|λ|max against dense spectra in CI
def test_the_adaptive_step_is_c_over_the_recorded_stiffness():
    """One block of GDA: p₁ − p₀ = −(c/|λ|max(∂F(p₀)))·F(p₀), |λ|max as the run's record at step 0 measures it
    (both Arnoldi estimates with 10 Krylov vectors; they agree to the estimate's accuracy)."""
    data, _ = mnist32()
    latents = jax.random.normal(jax.random.PRNGKey(0), (32, 4))
    game, _, _ = build_game("js", data, latents, 8)
    p0 = game.sample_init(jax.random.PRNGKey(3))
    out = train.run(game, make_rule("gda")({"c": 0.5, "tau": 1.0}), p0, jax.random.PRNGKey(4), steps=1,
                    metrics=diagnostics.stiffness_metric(KRYLOV_DIM))  # the stiffness part of memorization_metrics
    field = game.evaluate(p0, None, None).field
    moved = jax.flatten_util.ravel_pytree(jax.tree_util.tree_map(jnp.subtract, out.params, p0))[0]
    eta = -moved @ jax.flatten_util.ravel_pytree(field)[0] / jnp.sum(jax.flatten_util.ravel_pytree(field)[0] ** 2)
    np.testing.assert_allclose(eta, 0.5 / out.trajectory["stiffness"][0], rtol=2e-2)


def test_digit_offset_and_data_range_pick_the_shipped_digits_on_their_scale():
    shifted, labels = digits(5)
    np.testing.assert_array_equal(shifted, load_mnist_subset(37)[0][5:])
    assert labels.shape == (32,)
    symmetric, _ = digits(0, "symmetric")
    np.testing.assert_allclose(symmetric, 2 * mnist32()[0] - 1, atol=1e-6)
    game, generator, _ = build_game("js", symmetric, jnp.zeros((32, 4)), 8, "symmetric")
    sample = generator.apply(game.sample_init(jax.random.PRNGKey(0)).min, 10 * jnp.ones((32, 4)))
    assert float(sample.min()) < 0.0  # tanh output: negative pixels are reachable (sigmoid's are not)


@pytest.mark.parametrize("args,needle", [(["--steps", "0"], "--steps"), (["--methods", "adamw"], "unknown method"),
                                         (["--digit-offset", "-1"], "--digit-offset"),
                                         (["--step-scale", "0"], "--step-scale"), (["--max-step", "0"], "--max-step"), (["--adam-lr", "0"], "--adam-lr"),
                                         (["--lr", "-1"], "--lr"), (["--checkpoint-every", "-1"], "--checkpoint-every"),
                                         (["--records", "0"], "--records"),
                                         (["--refresh-every", "0"], "--refresh-every"),
                                         (["--refresh-every", "3"], "--refresh-every must divide the record block"),
                                         (["--out", "/proc/nope"], "--out")])
def test_bad_arguments_are_one_line_errors(args, needle, capsys):
    assert cli.main(["mnist32", "--quick"] + args) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1
