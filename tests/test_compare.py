"""minimax compare: every family through train.sweep, scored by the shared metrics; its files and its effects."""
import csv
import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from minimax import cli
from minimax.experiments import compare

RING_FILES = ("compare.json", "compare.csv", "compare_steps.json", "compare_steps.csv", "compare_samples_ring8.png",
              "compare_metrics_ring8.png", "compare_steps_ring8.png")


def _run(out, *argv):
    assert cli.main(["compare", "--out", str(out), *argv]) == 0
    with open(out / "compare.json") as f:
        return json.load(f)


def _check_rows(doc, dataset, families, seeds):
    rows = {r["family"]: r for r in doc["rows"] if r["dataset"] == dataset}
    assert set(rows) >= set(families)
    for name in families:
        r = rows[name]
        assert r["seeds"] == seeds and r["train_seconds"] > 0 and r["diverged"] == 0
        for metric in compare.METRICS[dataset]:
            assert len(r[f"{metric}_seeds"]) == seeds and all(math.isfinite(v) for v in r[f"{metric}_seeds"])
            assert r[f"{metric}_min"] <= r[metric] <= r[f"{metric}_max"]
        for metric in ("high_quality", "precision", "recall", "coverage", "memorized_fraction"):
            if metric in r:
                assert 0.0 <= r[f"{metric}_min"] and r[f"{metric}_max"] <= 1.0
        for metric in ("w2", "mmd2", "fd", "nn_distance", "mean_matched_distance"):
            if metric in r:
                assert r[f"{metric}_min"] >= -1e-6
    return rows


FLOW_MATCHING = ("flow_matching", "ot_flow_matching")


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare_ring")
    return out, _run(out, "--quick", "--families", *FLOW_MATCHING, "--steps", "100")


def test_quick_ring_run_writes_its_files_with_sane_values(ring_run):
    out, doc = ring_run
    for name in RING_FILES:
        assert (out / name).stat().st_size > 0, name
    rows = _check_rows(doc, "ring8", FLOW_MATCHING, seeds=2)
    assert rows[compare.REFERENCE]["modes_covered"] == 8  # fresh target samples cover every mode
    assert all(0 <= rows[f]["modes_covered_min"] and rows[f]["modes_covered_max"] <= 8 for f in FLOW_MATCHING)
    assert doc["config"]["quick"] and doc["config"]["steps"] == {"ring8": 100}
    with open(out / "compare.csv") as f:
        assert [r["family"] for r in csv.DictReader(f)] == [compare.REFERENCE, *FLOW_MATCHING]


def test_quick_ring_run_shows_that_ot_pairing_needs_fewer_steps(ring_run):
    out, doc = ring_run
    rows = {r["family"]: r for r in doc["rows"]}
    # OT pairing: straighter sampling paths, and fewer Euler steps for the same W2² level
    assert rows["ot_flow_matching"]["straightness_ratio"] > rows["flow_matching"]["straightness_ratio"] + 0.05
    needed = doc["steps_needed"]["ring8"]["steps"]
    assert needed["ot_flow_matching"] is not None and needed["flow_matching"] is not None
    assert needed["ot_flow_matching"] < needed["flow_matching"]
    with open(out / "compare_steps.json") as f:
        steps = [r for r in json.load(f)["rows"] if r["family"] == "flow_matching"]
    assert [r["sample_steps"] for r in steps] == list(compare.STEP_COUNTS)
    assert all(r["min"] <= r["mean"] <= r["max"] for r in steps)


def test_mnist_scores_of_copies_and_of_noisy_copies():
    keys = jax.random.split(jax.random.PRNGKey(0), 2)
    data = compare.load("mnist32", keys)
    digits = data.reference
    noisy = digits + 0.3 * jax.random.normal(jax.random.PRNGKey(1), digits.shape)
    scores = {k: np.asarray(v) for k, v in compare.score("mnist32", data, jnp.stack([digits, noisy])).items()}
    assert set(scores) == set(compare.METRICS["mnist32"])
    # the training digits themselves: all memorized at distance 0, the same features (FD 0, full precision/recall)
    assert scores["memorized_fraction"][0] == 1.0 and scores["nn_distance"][0] < 1e-6
    assert scores["mean_matched_distance"][0] < 1e-6 and scores["fd"][0] < 1e-2
    assert scores["precision"][0] == scores["recall"][0] == scores["coverage"][0] == 1.0
    # noise of 0.3 per pixel: no digit within 0.1 on every pixel, each sample far from the digits and worse in FD
    assert scores["memorized_fraction"][1] == 0.0 and scores["nn_distance"][1] > 3.0
    assert scores["fd"][1] > 10 * max(scores["fd"][0], 1.0)


@pytest.mark.slow
def test_the_memorization_view_through_the_cli(tmp_path):
    doc = _run(tmp_path, "--datasets", "mnist32", "--families", "w2_regression", "vae", "--seeds", "2", "--steps",
               "20", "--checkpoint-every", "0")
    _check_rows(doc, "mnist32", ("w2_regression", "vae"), seeds=2)
    for name in ("compare_samples_mnist32.png", "compare_metrics_mnist32.png"):
        assert (tmp_path / name).stat().st_size > 0


@pytest.mark.slow
def test_the_generalization_view_has_its_references(tmp_path):
    doc = _run(tmp_path, "--datasets", "mnist", "--families", "vae", "ot_flow_matching", "--seeds", "2", "--steps",
               "30", "--checkpoint-every", "0")
    rows = _check_rows(doc, "mnist", ("vae", "ot_flow_matching"), seeds=2)
    # the training digits scored as samples: every digit memorized at distance 0
    assert rows[compare.REFERENCE]["memorized_fraction"] == 1.0 and rows[compare.REFERENCE]["nn_distance"] < 1e-4
    assert doc["heldout_nn_distance"] > 1.0  # a held-out digit is far from every training digit
    assert (tmp_path / "compare_steps_mnist.png").stat().st_size > 0


@pytest.mark.slow
def test_the_full_quick_run(tmp_path):
    doc = _run(tmp_path, "--quick")
    _check_rows(doc, "ring8", compare.FAMILIES, seeds=2)
    # the score-function estimator is the noisier one for the VAE at its initial point
    assert doc["vae_gradient_variance"]["ring8"]["init"]["ratio"] > 1.0
    needed = doc["steps_needed"]["ring8"]["steps"]
    assert needed["ot_flow_matching"] < needed["flow_matching"]


def test_steps_needed_uses_the_worse_flow_matching_family_as_the_level():
    curves = {"flow_matching": {n: np.full(2, 8.0 / n + 1.0) for n in compare.STEP_COUNTS},
              "ot_flow_matching": {n: np.full(2, 1.05) for n in compare.STEP_COUNTS},
              "score_matching": {n: np.full(2, 100.0 / n) for n in compare.STEP_COUNTS}}
    level, needed = compare.steps_needed(curves)
    assert level == pytest.approx(compare.STEPS_TOLERANCE * (8.0 / 128 + 1.0))
    # flow matching reaches 1.2 × 1.0625 = 1.275 when 8/N <= 0.275 (N = 32), score matching when 100/N <= 1.275
    assert needed == {"flow_matching": 32, "ot_flow_matching": 1, "score_matching": 128}


def test_per_seed_game_stacks_each_seeds_data_as_game_leaves():
    setting = compare.SETTINGS["ring8"]
    keys = jax.random.split(jax.random.PRNGKey(0), 3)
    data = compare.load("ring8", keys)
    fam = compare.family("flow_matching", setting, 2, 8)
    game = compare.per_seed_game(fam.make_game, data.train, None)
    batches = game.args[0]
    assert batches.array.shape == (3, 1024, 2) and batches.batch_size == setting.batch
    np.testing.assert_array_equal(batches.array[1], data.train[1])
    assert not np.allclose(data.train[0], data.train[1])


def test_unknown_choices_are_usage_errors(tmp_path, capsys):
    assert cli.main(["compare", "--families", "diffusion", "--out", str(tmp_path)]) == 2
    assert "unknown family" in capsys.readouterr().err
    assert cli.main(["compare", "--datasets", "cifar10", "--out", str(tmp_path)]) == 2
    assert cli.main(["compare", "--seeds", "0", "--out", str(tmp_path)]) == 2
