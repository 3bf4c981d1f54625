"""The `minimax dirac` command: its table, files and errors."""
import csv
import json
import math
import subprocess
import sys

import pytest

from minimax import cli


@pytest.fixture(scope="module")
def dirac_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("dirac")
    code = cli.main(["dirac", "--seeds", "4", "--steps", "3000", "--tau", "1", "5", "--out", str(out)])
    assert code == 0
    return out


def rows_of(out):
    with open(out / "dirac.json") as f:
        return json.load(f)


def test_dirac_json_has_config_versions_and_one_row_per_configuration(dirac_out):
    doc = rows_of(dirac_out)
    assert doc["config"]["seeds"] == 4 and doc["config"]["steps"] == 3000
    assert doc["versions"]["jax"] and doc["versions"]["optax"]
    rows = doc["rows"]
    assert len(rows) == 3 * 4 * 2
    required = {"distance", "method", "tau", "lr", "seeds", "converged", "diverged", "final_distance_median",
                "spectral_radius"}
    assert all(required <= set(r) for r in rows)
    assert {r["distance"] for r in rows} == {"js", "wasserstein", "zero_infinity"}
    assert {r["method"] for r in rows} == {"gda", "alt_gda", "eg", "ogda"}


def test_zero_infinity_eg_converges_for_every_seed_and_gda_for_none(dirac_out):
    rows = {(r["distance"], r["method"], r["tau"]): r for r in rows_of(dirac_out)["rows"]}
    for tau in (1.0, 5.0):
        assert rows[("zero_infinity", "eg", tau)]["converged"] == 4
        assert rows[("zero_infinity", "gda", tau)]["converged"] == 0
        assert rows[("zero_infinity", "alt_gda", tau)]["converged"] == 0


def test_spectral_radii_in_the_table_match_the_closed_forms(dirac_out):
    for r in rows_of(dirac_out)["rows"]:
        h = r["lr"] * (0.5 if r["distance"] == "js" else 1.0) / math.sqrt(r["tau"])
        expected = {"gda": math.sqrt(1 + h**2), "eg": math.sqrt(1 - h**2 + h**4), "alt_gda": 1.0}.get(r["method"])
        if expected is not None:
            assert r["spectral_radius"] == pytest.approx(expected, rel=1e-5), r
            assert r["spectral_radius_closed_form"] == pytest.approx(expected, rel=1e-6)
        else:
            assert r["spectral_radius"] < 1  # OGDA contracts at this step size


def test_csv_and_png_are_written(dirac_out):
    with open(dirac_out / "dirac.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 24 and "spectral_radius" in rows[0]
    with open(dirac_out / "dirac_trajectories.png", "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("args,needle", [
    (["dirac", "--steps", "-5"], "--steps"),
    (["dirac", "--tau", "0"], "--tau"),
    (["dirac", "--methods", "sgd"], "unknown method"),
    (["dirac", "--distances", "kl"], "unknown distance"),
])
def test_bad_arguments_exit_non_zero_with_one_line(args, needle, capsys):
    assert cli.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1


def test_console_script_parse_errors_are_one_line():
    out = subprocess.run([sys.executable, "-m", "minimax.cli", "dirac", "--seeds", "many"], capture_output=True, text=True)
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1 and "--seeds" in out.stderr


def test_ctrl_c_stops_at_a_block_saves_and_resume_writes_the_same_rows(tmp_path):
    """A real SIGINT to the console script: rc 130, one line saying how to resume; the resumed run's rows
    equal those of an uninterrupted run."""
    import os
    import signal
    import threading
    import time

    base = [sys.executable, "-m", "minimax.cli", "dirac", "--distances", "js", "zero_infinity", "--methods", "eg",
            "--seeds", "4", "--steps", "60000", "--tau", "1", "--checkpoint-every", "20"]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(base + ["--out", str(tmp_path / "cut")], stderr=subprocess.PIPE, text=True, env=env)
    seen = ""
    # A hang guard, not a timing assertion: a child that never shows its bar is killed, which ends the stream
    # (a deadline checked between reads could not catch a silent hang: read(1) blocks).
    watchdog = threading.Timer(240, proc.kill)
    watchdog.start()
    try:
        while "dirac js_eg:" not in seen:  # the progress bar has started: blocks are running
            char = proc.stderr.read(1)
            if not char:  # end of stream: the run exited (or was killed) before its progress bar showed
                break
            seen += char
    finally:
        watchdog.cancel()
    if "dirac js_eg:" not in seen:
        proc.kill()
        pytest.fail(f"no progress bar (rc {proc.wait()}); stderr so far: {seen[-2000:]!r}")
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    rest = proc.communicate(timeout=240)[1]
    assert proc.returncode == 130, rest[-2000:]
    last = [line for line in rest.replace("\r", "\n").splitlines() if line.strip()][-1]
    assert "interrupted at step" in last and "resume with: minimax dirac" in last and "--resume" in last, last
    assert not (tmp_path / "cut" / "dirac.json").exists()
    resumed = subprocess.run(base + ["--out", str(tmp_path / "cut"), "--resume"], capture_output=True, text=True,
                             env=env, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    whole = subprocess.run(base + ["--out", str(tmp_path / "whole")], capture_output=True, text=True, env=env,
                           timeout=600)
    assert whole.returncode == 0, whole.stderr[-2000:]
    assert rows_of(tmp_path / "cut")["rows"] == rows_of(tmp_path / "whole")["rows"]


def test_two_processes_write_the_rows_of_one_process_with_two_devices(tmp_path):
    """`--processes 2` (two JAX processes, gloo collectives, one CPU device each) gives the rows of one process
    splitting the same runs over two host devices (the same per-device batch, hence the same floats)."""
    import os
    argv = ["dirac", "--distances", "js", "--methods", "eg", "--seeds", "4", "--steps", "400", "--tau", "1", "5"]
    env = dict(os.environ)
    two = subprocess.run([sys.executable, "-m", "minimax.cli", *argv, "--processes", "2", "--out", str(tmp_path / "two")],
                         capture_output=True, text=True, env=env, timeout=600)
    assert two.returncode == 0, two.stderr[-2000:]
    assert "wrote" in two.stdout and (tmp_path / "two" / "minimax-process-1.log").exists()
    one = subprocess.run([sys.executable, "-m", "minimax.cli", *argv, "--out", str(tmp_path / "one")],
                         capture_output=True, text=True, timeout=600,
                         env=dict(env, XLA_FLAGS="--xla_force_host_platform_device_count=2"))
    assert one.returncode == 0, one.stderr[-2000:]
    assert rows_of(tmp_path / "two")["rows"] == rows_of(tmp_path / "one")["rows"]


def test_every_rule_on_the_zero_infinity_dirac_gan_behaves_as_its_theory_says(tmp_path):
    """The zero-infinity Dirac GAN is the bilinear game L = −wθ (exactly linear), so each rule's linear theory
    holds globally: a rule whose map contracts (ρ < 1, per step or per cycle) converges from every seed; the
    anchored rules and the averaged iterate (no stationary map) decay like O(1/k): d_T <= 2 d₀ / (η_θ T) with
    η_θ = η/τ; rules whose map has ρ = 1 (alternating GDA) or ρ > 1 (GDA) do not converge; FTR is undefined."""
    from minimax import updates
    steps = 4000
    assert cli.main(["dirac", "--distances", "zero_infinity", "--methods", "all", "--seeds", "3", "--steps", str(steps),
                     "--tau", "1", "5", "--checkpoint-every", "0", "--out", str(tmp_path)]) == 0
    rows = rows_of(tmp_path)["rows"]
    assert {r["method"] for r in rows} == set(updates.RULES)
    for r in rows:
        rho, seeds = r["spectral_radius"], r["seeds"]
        if r["method"] in ("eag", "feg", "eg_avg"):
            assert r["final_distance_median"] <= 2 * 1.0 * r["tau"] / (r["lr"] * steps), r
        elif r["method"] == "ftr":
            assert r["spectral_radius"] is None and "undefined" in r["spectral_radius_per"]
        elif r["method"] == "acgd":  # adaptive CGD: no stationary map and no rate to check; it moves in
            assert r["diverged"] == 0 and r["final_distance_median"] < 0.01, r
        elif rho < 0.999:
            assert r["converged"] == seeds and r["diverged"] == 0, r
            if r["spectral_radius_closed_form"] is not None:
                assert rho == pytest.approx(r["spectral_radius_closed_form"], rel=1e-4), r
        else:
            assert r["converged"] == 0, r
    per_cycle = {r["method"]: r["spectral_radius_per"] for r in rows}
    assert per_cycle["lookahead"] == "cycle of 5 steps" and per_cycle["eg"] == "step"


@pytest.mark.slow  # three console-script runs, ~55 s; test_train checks rows under sharding over 4 host devices in CI
def test_the_command_splits_the_host_into_one_device_per_core_unless_told_otherwise(tmp_path):
    """`minimax` gives XLA one CPU device per core (MINIMAX_HOST_DEVICES overrides); the rows do not depend on it."""
    import os
    argv = ["dirac", "--distances", "js", "--methods", "eg", "--seeds", "4", "--steps", "400"]
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    outs = {}
    for count in ("1", "3"):
        proc = subprocess.run([sys.executable, "-m", "minimax.cli", *argv, "--out", str(tmp_path / count)],
                              capture_output=True, text=True, timeout=600, env=dict(env, MINIMAX_HOST_DEVICES=count))
        assert proc.returncode == 0, proc.stderr[-2000:]
        outs[count] = rows_of(tmp_path / count)
        assert len(outs[count]["versions"]["devices"]) == int(count)
    for a, b in zip(outs["1"]["rows"], outs["3"]["rows"]):
        assert a["converged"] == b["converged"] and a["diverged"] == b["diverged"]
        assert math.isclose(a["final_distance_median"], b["final_distance_median"], rel_tol=1e-5, abs_tol=1e-12)
    assert cli.split_host_into_devices({"XLA_FLAGS": "--xla_force_host_platform_device_count=5"}) == 5
    bad = subprocess.run([sys.executable, "-m", "minimax.cli", *argv], capture_output=True, text=True,
                         env=dict(env, MINIMAX_HOST_DEVICES="two"), cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "MINIMAX_HOST_DEVICES" in bad.stderr
