"""The `minimax mixture` command: files, rows and errors."""
import csv
import json
import subprocess
import sys

import pytest

from minimax import cli

REQUIRED = {"distance", "method", "tau", "seeds", "modes_covered_mean", "modes_covered_min", "high_quality_mean",
            "mmd2_mean", "w2_mean", "mmd_test_p_median", "ks_p_median", "welch_p_median", "diverged",
            "diverged_seeds"}


@pytest.fixture(scope="module")
def quick_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("mixture")
    assert cli.main(["mixture", "--quick", "--tau", "1", "5", "--out", str(out)]) == 0
    return out


def test_quick_json_rows_and_config(quick_out):
    with open(quick_out / "mixture.json") as f:
        doc = json.load(f)
    config, rows = doc["config"], doc["rows"]
    assert config["quick"] and config["mixture"] == "ring8" and config["modes"] == 8
    assert doc["versions"]["jax"]
    assert [(r["distance"], r["tau"]) for r in rows] == [("js", 1.0), ("js", 5.0), ("mmd", 1.0), ("mmd", 5.0)]
    for r in rows:
        assert REQUIRED <= set(r), REQUIRED - set(r)
        assert r["method"] == "eg" and r["seeds"] == config["seeds"] == 2
        assert 0 <= r["modes_covered_min"] <= r["modes_covered_mean"] <= r["modes_covered_max"] <= 8
        assert 0.0 <= r["high_quality_mean"] <= 1.0 and r["mmd2_mean"] >= 0.0 and r["w2_mean"] > 0.0
        assert all(0.0 < r[k] <= 1.0 for k in ("mmd_test_p_median", "ks_p_median", "welch_p_median"))
        assert r["diverged"] == len(r["diverged_seeds"])
        assert len(r["modes_covered_trajectory_mean"]) == len(config["record_steps"])
    # target against target: W2² floor below every 60-step generator's W2², tests that do not reject
    reference = config["target_vs_target"]
    assert reference["w2_mean"] < min(r["w2_mean"] for r in rows)
    assert reference["mmd_p_median"] > 0.05


def test_csv_and_pngs(quick_out):
    with open(quick_out / "mixture.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 and REQUIRED <= set(rows[0])
    for name in ("mixture_samples.png", "mixture_modes.png"):
        with open(quick_out / name, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("args,needle", [
    (["mixture", "--tau", "0"], "--tau"),
    (["mixture", "--seeds", "0"], "--seeds"),
    (["mixture", "--batch", "0"], "--batch"),
    (["mixture", "--methods", "sgd"], "unknown method"),
    (["mixture", "--distances", "kl"], "unknown distance"),
])
def test_bad_arguments_exit_2_with_one_line(args, needle, capsys):
    assert cli.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1


def test_unknown_mixture_is_a_one_line_parse_error():
    out = subprocess.run([sys.executable, "-m", "minimax.cli", "mixture", "--mixture", "ring9"],
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1 and "--mixture" in out.stderr
