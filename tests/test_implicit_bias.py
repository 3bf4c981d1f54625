"""The zero-infinity last-layer game (minimax.games.last_layer) and ``minimax implicit-bias``: EG from A = 0
reaches the minimum-norm interpolant XΦ⁺ (numpy pinv), the step's spectral radius is its closed form, the game
value reduces to the zero-infinity distance, and the CLI's rows and usage errors."""
import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from minimax import Players, cli, games, metrics, train, update_map_jacobian, updates
from minimax.data import mnist32
from minimax.experiments import implicit_bias as ib

N_DIGITS = 32


@pytest.fixture(scope="module")
def problem():
    """The 32 digits and two seeds' features (N = 256) with both objectives' stacked games."""
    data, _ = mnist32()
    keys = jax.random.split(jax.random.PRNGKey(0), 2)
    features = jnp.stack([ib.seed_features(k, 256) for k in keys])
    _, targets = ib.couple_at_zero(data)
    zi, w2 = (ib.seed_games(objective, targets, features) for objective in ("zero_infinity", "w2"))
    return data, features, zi, w2


def _seed(tree, s):
    return jax.tree_util.tree_map(lambda x: x[s], tree)


def test_the_coupling_at_zero_is_the_identity_and_both_games_share_it(problem):
    """At A = 0 every permutation is optimal; the Hungarian solver, called once, returns σ(j) = j, so X is the
    digits in order, and both objectives target the same XΦ⁺."""
    data, features, zi, w2 = problem
    perm, targets = ib.couple_at_zero(data)
    assert np.asarray(perm).tolist() == list(range(N_DIGITS))
    np.testing.assert_array_equal(targets, data)
    np.testing.assert_array_equal(zi.args[0], w2.args[0])
    np.testing.assert_array_equal(w2.equilibrium.min, zi.equilibrium.min)


@pytest.mark.parametrize("method", ["eg", "w2_gd"])
def test_a_convergent_rule_from_zero_reaches_the_numpy_min_norm_interpolant(problem, method):
    """EG on the zero-infinity game and GD on the W2 loss, from A = 0: ‖A_T − XΦ⁺‖ <= 1e-3 ‖XΦ⁺‖ with Φ⁺ from
    numpy (float64), and every digit is memorized."""
    data, features, zi, w2 = problem
    objective, rule, _ = ib.METHODS[method]
    game = _seed(zi if objective == "zero_infinity" else w2, 0)
    sigma_max = np.linalg.svd(np.asarray(features[0], np.float64), compute_uv=False).max()
    lam = sigma_max / N_DIGITS if objective == "zero_infinity" else 2 * sigma_max**2 / N_DIGITS  # |λ|max(∂F)
    hp = {"lr": 0.5 / lam, "tau": 1.0}
    out = jax.jit(lambda g: train.run(g, ib.make_rule(rule)(hp), g.sample_init(None), jax.random.PRNGKey(1),
                                      steps=600))(game)
    phi = np.asarray(features[0], np.float64).T                     # Φ (N, n)
    star = np.asarray(data, np.float64).T @ np.linalg.pinv(phi)      # XΦ⁺ (d, N)
    a = np.asarray(out.params.min, np.float64)
    assert not bool(out.diverged)
    assert np.linalg.norm(a - star) <= 1e-3 * np.linalg.norm(star)
    np.testing.assert_allclose(a @ phi, np.asarray(data).T, atol=1e-3)  # AΦ = X
    assert float(metrics.memorization(games.last_layer_generator(out.params.min, features[0]), data).fraction) == 1.0


def test_the_restricted_game_has_the_spectrum_of_the_full_step_without_the_interpolating_directions():
    """Dense ∂T of EG on a small full game (d = 2, N = 10, n = 6): its eigenvalues are those of the restricted
    game (each d times) and 1 on the d(N − n) directions of the interpolating set."""
    d, count, n = 2, 10, 6
    phi = games.random_features(jax.random.PRNGKey(3), jax.random.normal(jax.random.PRNGKey(4), (n, 4)), count)
    x = jax.random.uniform(jax.random.PRNGKey(5), (n, d))
    full, rule = games.zero_infinity_last_layer(x, phi), updates.extragradient(optax.sgd(0.3))
    restricted = games.zero_infinity_last_layer(jnp.zeros((n, 1)), games.range_features(phi))
    eig = lambda g: np.linalg.eigvals(np.asarray(jax.jit(
        lambda g: update_map_jacobian(rule, g.field_fn(), g.equilibrium))(g)))
    got = list(eig(full))
    for want in np.concatenate([np.tile(eig(restricted), d), np.ones(d * (count - n))]):  # match as multisets
        nearest = int(np.argmin(np.abs(np.asarray(got) - want)))
        assert abs(got.pop(nearest) - want) < 1e-4, want


def test_the_game_value_is_the_zero_infinity_reduction(problem):
    """L(A, B) = 0 for every B when AΦ = X; otherwise L(A, t(X − AΦ)) = t‖X − AΦ‖²/n grows without bound."""
    data, features, zi, _ = problem
    game = _seed(zi, 0)
    star = game.equilibrium.min
    for k in range(3):  # |L| against its scale ‖B‖‖X‖/n for a non-interpolating A: float32 rounding only
        b = 10.0 * jax.random.normal(jax.random.PRNGKey(k), (784, N_DIGITS))
        scale = float(jnp.linalg.norm(b) * jnp.linalg.norm(data)) / N_DIGITS
        assert abs(float(game.value(Players(star, b)))) <= 1e-6 * scale
    a = 0.5 * star
    gap = (data - games.last_layer_generator(a, features[0])).T
    for t in (1.0, 10.0, 100.0):
        np.testing.assert_allclose(float(game.value(Players(a, t * gap))),
                                   t * float(jnp.sum(gap**2)) / N_DIGITS, rtol=1e-4)


def test_game_constructor_rejects_too_few_features():
    x = jnp.zeros((N_DIGITS, 3))
    with pytest.raises(ValueError, match="features"):
        games.zero_infinity_last_layer(x, jnp.ones((N_DIGITS, 16)))
    with pytest.raises(ValueError, match="one row per code"):
        games.zero_infinity_last_layer(x, jnp.ones((8, 40)))


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """``minimax implicit-bias --quick`` (2 seeds, 300 steps, N = 256; no checkpoints): its JSON and directory."""
    out = tmp_path_factory.mktemp("implicit_bias")
    assert cli.main(["implicit-bias", "--quick", "--checkpoint-every", "0", "--out", str(out)]) == 0
    return json.load(open(out / "implicit_bias.json")), out


def test_cli_quick_rows(quick_run, capsys):
    result, out = quick_run
    rows = {(r["method"], r["tau"]): r for r in result["rows"]}
    assert sorted(rows) == sorted([("eg", 1.0), ("eg", 5.0), ("gda", 1.0), ("ogda", 1.0), ("alt_gda", 1.0),
                                   ("w2_gd", 1.0)])
    assert result["coupling_is_identity"] and result["config"]["seeds"] == 2 and "jax" in result["versions"]
    for key in (("eg", 1.0), ("w2_gd", 1.0)):
        row = rows[key]
        assert row["converged"] == 2 and row["memorized_fraction_min"] == 1.0 and row["min_norm_error_max"] <= 1e-3
    gda = rows[("gda", 1.0)]
    assert gda["converged"] == 0 and gda["memorized_fraction"] == 0.0 and gda["min_norm_error_median"] > 1e3
    alt = rows[("alt_gda", 1.0)]
    assert alt["converged"] == 0 and alt["diverged"] == 0 and 0.1 < alt["min_norm_error_median"] < 10
    for name in ("implicit_bias.csv", "implicit_bias_min_norm_error.png", "implicit_bias_samples.png"):
        assert (out / name).stat().st_size > 0


def test_cli_quick_spectra_are_their_closed_forms(quick_run):
    """Per seed: Arnoldi's |λ|max on the full game (d(N + n) = 225 792 parameters) is σ_max(Φ)/n (numpy SVD),
    2σ_max(Φ)²/n on the W2 loss; each step's ρ(∂T), from differentiating the step, is √(1 + h²) (GDA, > 1:
    it cannot converge), √(1 − h² + h⁴) (EG at τ = 1 and 5), 1 (alternating GDA), the OGDA quadratic's root
    and |1 − 2ησ²/n| (W2-GD), maximized over the modes h_k = ησ_k/(n√τ)."""
    result, _ = quick_run
    for info in result["step_sizes"].values():
        np.testing.assert_allclose(info["lambda_max_measured"], info["lambda_max_closed_form"], rtol=1e-4)
    for row in result["rows"]:
        np.testing.assert_allclose(row["spectral_radius_per_seed"], row["spectral_radius_closed_form_per_seed"],
                                   rtol=2e-5, err_msg=f"{row['method']} τ={row['tau']}")
        below = row["method"] in ("eg", "ogda", "w2_gd")
        assert (row["spectral_radius"] < 1) == below and (row["method"] != "gda" or row["spectral_radius"] > 1.05)


@pytest.mark.parametrize("argv, needle", [
    (["--features", "16"], "--features"),
    (["--digit-offset", "2000"], "--digit-offset"),
    (["--digit-offset", "-1"], "--digit-offset"),
    (["--methods", "adam"], "unknown method"),
    (["--step-scale", "0"], "--step-scale"),
])
def test_cli_usage_errors_are_one_line_with_status_2(tmp_path, capsys, argv, needle):
    assert cli.main(["implicit-bias", "--out", str(tmp_path)] + argv) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1 and "Traceback" not in err, err
