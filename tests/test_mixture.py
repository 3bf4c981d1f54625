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
    assert cli.main(["mixture", "--quick", "--tau", "1", "5", "--records", "4", "--out", str(out)]) == 0
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


def test_recipes_are_the_published_ones_with_overrides():
    from minimax.experiments.mixture import recipe_of
    gp = recipe_of("wgan_gp")
    assert (gp.b1, gp.b2, gp.critic_steps, gp.gp_weight, gp.published_lr) == (0.5, 0.9, 5, 0.1, 1e-4)
    ns = recipe_of("ns")
    assert (ns.b1, ns.b2, ns.critic_steps, ns.gp_weight, ns.published_lr) == (0.5, 0.999, 1, None, 2e-4)
    assert recipe_of("wgan_gp", critic_steps=2, gp_weight=10.0).critic_steps == 2
    assert recipe_of("wgan_gp", gp_weight=10.0).gp_weight == 10.0
    assert recipe_of("ns", gp_weight=10.0).gp_weight is None  # no penalty to weigh


def test_gp_weight_scales_the_penalty_of_the_game():
    """L_w(λ) = L_linear + λ·P at one point and key: (L(10) − L(0.1)) / (L(1) − L(0.1)) = 9.9 / 0.9."""
    import jax
    from minimax.data import ring8
    from minimax.experiments.mixture import build_game
    losses = {}
    for weight in (0.1, 1.0, 10.0):
        game, _, _ = build_game("wgan_gp", ring8(), batch=16, latent_dim=2, width=8, gp_weight=weight)
        params = game.sample_init(jax.random.PRNGKey(0))
        losses[weight] = float(game.evaluate(params, jax.random.PRNGKey(1), None).loss_max)
    ratio = (losses[10.0] - losses[0.1]) / (losses[1.0] - losses[0.1])
    assert abs(ratio - 11.0) < 1e-3, losses


@pytest.mark.parametrize("distance,critic_steps", [("wgan_gp", 5), ("ns", 1)])
def test_alt_gda_takes_the_recipes_critic_steps(distance, critic_steps):
    """Under a constant field every Adam step moves each coordinate by η (m̂/√v̂ = 1): one alternating
    step moves the critic by critic_steps·η and the generator by η/τ."""
    import jax
    import jax.numpy as jnp
    import numpy as np
    from minimax import Players
    from minimax.experiments.mixture import make_rule, recipe_of
    params = Players({"a": jnp.zeros(2)}, {"b": jnp.zeros(3)})
    field_fn = lambda p, draw=0: jax.tree_util.tree_map(jnp.ones_like, p)
    rule = make_rule("alt_gda", recipe_of(distance))({"lr": 1e-3, "tau": 2.0})
    u, _ = rule.update(field_fn(params), rule.init(params), params, field_fn=field_fn)
    np.testing.assert_allclose(u.max["b"], -critic_steps * 1e-3, rtol=1e-4)
    np.testing.assert_allclose(u.min["a"], -1e-3 / 2.0, rtol=1e-4)
