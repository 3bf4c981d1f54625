"""Bad input gets a clear error, before compute: a table of calls across the public API and the CLI.

Each case is (id, call, expected exception type, a fragment of the message). A clear error is the
expected type, raised by minimax's own check (not a JAX-internal traceback), naming the argument.
The fuzz tests at the end draw shapes, dtypes and NaNs for the sample distances and couplings and
accept only "a clear error" or "a finite value equal to a brute-force reference".
"""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minimax import (Game, Players, cli, descent_field, diagnostics, field_jacobian, fields, games, losses, metrics,
                     models, ot, spectral_radius, train, updates, validation)
from minimax.data import load_mnist, load_mnist_subset, minibatches, read_idx, ring8
from minimax.games import gan_game, init_players, normal_latent
from minimax.losses import DISTANCES

KEY = jax.random.PRNGKey(0)
F32 = np.ones((4, 2), np.float32)
NAN = np.array([[0.0, 1.0], [np.nan, 2.0], [1.0, 1.0]], np.float32)
P = Players(jnp.float32(0.3), jnp.float32(-0.2))
DIRAC = games.dirac_gan("zero_infinity")
FIELD = DIRAC.field_fn()
LOSS = lambda p, key, args, state: p.min * p.max
EG = updates.extragradient(optax.sgd(0.1))
GRID = {"lr": [0.1]}
KEYS = jax.random.split(KEY, 2)


def run(**kw):
    kwargs = dict(steps=10)
    kwargs.update(kw)
    params = kwargs.pop("params", P)
    return train.run(kwargs.pop("game", DIRAC), kwargs.pop("rule", EG), params, kwargs.pop("key", KEY), **kwargs)


def sweep(**kw):
    kwargs = dict(game=DIRAC, rule=EG, hparams=None, keys=KEYS, steps=10)
    kwargs.update(kw)
    return train.sweep(kwargs.pop("game"), kwargs.pop("rule"), kwargs.pop("hparams"), kwargs.pop("keys"), **kwargs)


def wrong_structure(field_fn):
    return lambda params, **kw: field_fn(params, **kw).min


API_CASES = [
    # games and the descent field
    ("game-loss-none", lambda: Game(loss=None), TypeError, "`loss` must be callable"),
    ("game-loss-number", lambda: Game(loss=3), TypeError, "`loss` must be callable"),
    ("game-max-loss", lambda: Game(loss=LOSS, max_loss="x"), TypeError, "`max_loss`"),
    ("game-sample-init", lambda: Game(loss=LOSS, sample_init=1), TypeError, "`sample_init`"),
    ("game-update-without-init", lambda: Game(loss=LOSS, update_state=lambda *a: 0), ValueError, "init_state"),
    ("descent-field-loss", lambda: descent_field(3.0), TypeError, "`loss`"),
    ("descent-field-max-loss", lambda: descent_field(LOSS, "nope"), TypeError, "`max_loss`"),
    ("bilinear-1d", lambda: games.bilinear(jnp.ones(3)), ValueError, "`A` must be a 2-D"),
    ("quadratic-not-minimax", lambda: games.quadratic(a=-1.0), ValueError, "a > 0"),
    ("dirac-unknown", lambda: games.dirac_gan("kl"), ValueError, "unknown distance 'kl'"),
    ("translation-batch", lambda: games.translation_gan(batch_size=0), ValueError, "`batch_size`"),
    ("translation-no-key", lambda: games.translation_gan().field(games.translation_gan().sample_init(KEY)),
     ValueError, "PRNG key"),
    # runs
    ("run-tuple-params", lambda: run(params=(jnp.float32(1.0), jnp.float32(1.0))), TypeError, "minimax.Players"),
    ("run-int-params", lambda: run(params=Players(jnp.int32(1), jnp.int32(1))), TypeError, "floating-point"),
    ("run-int-key", lambda: run(key=0), TypeError, "`key` must be a PRNG key"),
    ("run-float-key", lambda: run(key=jnp.zeros(2)), TypeError, "`key` must be a PRNG key"),
    ("run-steps-zero", lambda: run(steps=0), ValueError, "`steps`"),
    ("run-steps-float", lambda: run(steps=2.5), ValueError, "`steps`"),
    ("run-steps-bool", lambda: run(steps=True), ValueError, "`steps`"),
    ("run-record-every", lambda: run(steps=10, record_every=3), ValueError, "`record_every`"),
    ("run-params-and-state", lambda: run(state=train.init_state(DIRAC, EG, P)), ValueError, "exactly one"),
    ("run-neither", lambda: run(params=None), ValueError, "exactly one"),
    ("run-rule-string", lambda: run(rule="sgd"), TypeError, "`rule`"),
    ("run-metrics-list", lambda: run(metrics=lambda *a: [1.0]), TypeError, "`metrics` must return a dict"),
    ("run-transform-structure", lambda: run(field_transform=wrong_structure), TypeError, "field transform"),
    ("run-transform-not-callable", lambda: run(field_transform=3), TypeError, "field transform must be callable"),
    ("sweep-single-key", lambda: sweep(keys=KEY), TypeError, "`keys`"),
    ("sweep-no-keys", lambda: sweep(keys=None), ValueError, "`keys`"),
    ("sweep-lengths", lambda: sweep(hparams={"lr": [0.1, 0.2], "tau": [1.0]}), ValueError, "common length"),
    ("sweep-empty-values", lambda: sweep(hparams={"lr": []}), ValueError, "common length"),
    ("sweep-hparams-list", lambda: sweep(hparams=[0.1]), TypeError, "`hparams`"),
    ("sweep-hparams-strings", lambda: sweep(hparams={"opt": ["adam"]}), TypeError, "numbers or booleans"),
    ("sweep-strategy", lambda: sweep(strategy="pmap"), ValueError, "`strategy`"),
    ("sweep-batch-zero", lambda: sweep(strategy="map", batch_size=0), ValueError, "`batch_size`"),
    ("sweep-batch-divides", lambda: sweep(strategy="map", batch_size=3, keys=jax.random.split(KEY, 4)), ValueError,
     "must divide"),
    ("sweep-not-a-game", lambda: sweep(game=LOSS), TypeError, "minimax.Game"),
    ("sweep-rule-number", lambda: sweep(rule=3), TypeError, "`rule`"),
    ("sweep-no-init", lambda: sweep(game=Game(loss=LOSS)), ValueError, "`init`"),
    ("sweep-seed-games", lambda: sweep(seed_games=True), ValueError, "seed_games"),
    ("sweep-no-devices", lambda: sweep(devices=[]), ValueError, "`devices`"),
    ("checkpointing-every", lambda: train.Checkpointing("/tmp/x", every=0), ValueError, "`every`"),
    ("grid-empty", lambda: train.hyperparameter_grid(), ValueError, "at least one"),
    ("grid-empty-list", lambda: train.hyperparameter_grid(lr=[]), ValueError, "`lr`"),
    ("grid-scalar", lambda: train.hyperparameter_grid(lr=0.1), ValueError, "`lr`"),
    ("grid-strings", lambda: train.hyperparameter_grid(opt=["adam"]), TypeError, "`opt`"),
    # update rules
    ("eg-negative-scale", lambda: updates.extragradient(optax.sgd(0.1), update_scale=-1), ValueError, "update_scale"),
    ("eg-scale-above-1", lambda: updates.extragradient(optax.sgd(0.1), update_scale=1.5), ValueError, "update_scale"),
    ("eg-scale-nan", lambda: updates.extragradient(optax.sgd(0.1), update_scale=float("nan")), ValueError,
     "update_scale"),
    ("eg-scale-string", lambda: updates.extragradient(optax.sgd(0.1), update_scale="1"), TypeError, "update_scale"),
    ("eg-no-field-fn", lambda: EG.update(FIELD(P), EG.init(P), P), ValueError, "field_fn"),
    ("eg-no-params", lambda: EG.update(FIELD(P), EG.init(P), None, field_fn=FIELD), ValueError, "parameters"),
    ("eg-field-fn-number", lambda: EG.update(FIELD(P), EG.init(P), P, field_fn=3), TypeError, "`field_fn`"),
    ("eg-field-mismatch", lambda: EG.update(Players(jnp.ones(2), jnp.ones(2)), EG.init(P), P, field_fn=FIELD),
     ValueError, "`field` must have the structure"),
    ("gda-field-mismatch", lambda: updates.simultaneous(optax.sgd(0.1)).update((1.0, 2.0), None, P), ValueError,
     "`field`"),
    ("alt-max-steps-zero", lambda: updates.alternating(optax.sgd(0.1), max_steps=0), ValueError, "`max_steps`"),
    ("alt-max-steps-float", lambda: updates.alternating(optax.sgd(0.1), max_steps=1.5), ValueError, "`max_steps`"),
    ("alt-order", lambda: updates.alternating(optax.sgd(0.1), order="both"), ValueError, "`order`"),
    ("alt-no-field-fn", lambda: updates.alternating(optax.sgd(0.1)).update(FIELD(P), updates.alternating(
        optax.sgd(0.1)).init(P), P), ValueError, "field_fn"),
    ("averaging-decay-above", lambda: updates.averaging(optax.sgd(0.1), decay=1.5), ValueError, "`decay`"),
    ("averaging-decay-negative", lambda: updates.averaging(optax.sgd(0.1), decay=-0.1), ValueError, "`decay`"),
    ("tau-zero", lambda: updates.two_timescale(0.0), ValueError, "`tau`"),
    ("tau-nan", lambda: updates.two_timescale(float("nan")), ValueError, "`tau`"),
    ("tau-string", lambda: updates.two_timescale("5"), TypeError, "`tau`"),
    ("scale-negative", lambda: updates.scale_players(min_scale=-1.0), ValueError, "`min_scale`"),
    ("scale-non-players", lambda: updates.scale_players().update((1.0, 2.0), updates.scale_players().init(P)),
     TypeError, "minimax.Players"),
    ("box-inverted", lambda: updates.box(1.0, -1.0), ValueError, "`lower` <= `upper`"),
    ("ball-zero", lambda: updates.ball(0.0), ValueError, "`radius`"),
    ("project-number", lambda: updates.project(3), TypeError, "`projection`"),
    ("rule-unknown", lambda: updates.rule("egg", optax.sgd(0.1)), ValueError, "unknown update rule 'egg'"),
    ("transform-needs-field-fn", lambda: fields.with_field_transform(EG, fields.consensus(1.0)).update(
        FIELD(P), EG.init(P), P), ValueError, "field_fn"),
    # distances and regularizers
    ("distance-unknown", lambda: losses.distances.get("kl"), ValueError, "unknown distance 'kl'"),
    ("critic-output-shapes", lambda: DISTANCES["js"].critic_loss(jnp.ones(3), jnp.ones((3, 2))), ValueError,
     "critic outputs"),
    ("fgan-not-fdiv", lambda: losses.fgan_distance("kl"), TypeError, "FDivergence"),
    ("fdivergence-unknown", lambda: losses.get_fdivergence("nope"), ValueError, "nope"),
    ("gp-no-key", lambda: losses.gradient_penalty(lambda w, x: x @ w, jnp.ones(2), F32, F32, None), ValueError,
     "PRNG key"),
    ("gp-shapes", lambda: losses.gradient_penalty(lambda w, x: x @ w, jnp.ones(2), F32, F32[:3], KEY), ValueError,
     "same shape"),
    ("r1-critic-shape", lambda: losses.r1_penalty(lambda w, x: x, jnp.ones(2), F32), ValueError,
     "one output per sample"),
    ("with-regularizers", lambda: DISTANCES["js"].with_regularizers(3), TypeError, "callable"),
    ("distance-half-state", lambda: losses.Distance("x", LOSS, LOSS, init_state=lambda: 0.0), ValueError,
     "init_state"),
    ("mcgan-q", lambda: losses.mcgan_mean(F32, F32, q=3), ValueError, "q must be 1 or 2"),
    ("mcgan-k", lambda: losses.mcgan_covariance(F32, F32, k=5), ValueError, "0 <= k <= 2"),
    ("magan-epoch", lambda: losses.magan_distance(1.0, epoch_steps=0), ValueError, "`epoch_steps`"),
    ("energy-shapes", lambda: losses.reconstruction_energy(F32, F32[:2]), ValueError, "same batched shape"),
    ("pulling-away-one", lambda: losses.pulling_away(F32[:1]), ValueError, "batch >= 2"),
    # sample distances
    ("mmd-complex", lambda: losses.mmd2(F32.astype(np.complex64), F32), TypeError, "complex"),
    ("mmd-nan", lambda: losses.mmd2(NAN, F32), ValueError, "non-finite"),
    ("mmd-features", lambda: losses.mmd2(F32, np.ones((4, 3))), ValueError, "same sample shape"),
    ("mmd-empty", lambda: losses.mmd2(np.ones((0, 2)), F32), ValueError, "leading sample axis"),
    ("mmd-scalar", lambda: losses.mmd2(1.0, F32), ValueError, "leading sample axis"),
    ("mmd-string", lambda: losses.mmd2("abc", F32), TypeError, "`x`"),
    ("mmd-unbiased-one", lambda: losses.mmd2(F32[:1], F32, unbiased=True), ValueError, "at least 2 samples"),
    ("energy-nan", lambda: losses.energy_distance(F32, NAN), ValueError, "non-finite"),
    ("energy-none", lambda: losses.energy_distance(None, F32), TypeError, "`x`"),
    ("kernel-empty", lambda: losses.gaussian_kernel([]), ValueError, "`bandwidths`"),
    ("kernel-negative", lambda: losses.gaussian_kernel([-1.0]), ValueError, "`bandwidths`"),
    ("imq-scale", lambda: losses.imq_kernel(0.0), ValueError, "`scale`"),
    ("w1d-2d", lambda: losses.wasserstein_1d(F32, F32), ValueError, "1-D"),
    ("w1d-p", lambda: losses.wasserstein_1d(np.ones(3), np.ones(3), p=0.5), ValueError, "`p`"),
    ("w1d-nan", lambda: losses.wasserstein_1d(np.array([np.nan, 1.0]), np.ones(2)), ValueError, "non-finite"),
    ("sliced-projections", lambda: losses.sliced_wasserstein(F32, F32, KEY, num_projections=0), ValueError,
     "num_projections"),
    ("sliced-nan", lambda: losses.sliced_wasserstein(NAN, F32, KEY), ValueError, "non-finite"),
    ("lp-negative-weights", lambda: losses.wasserstein_lp(F32, F32, a=[0.5, 0.5, 0.5, -0.5]), ValueError,
     "non-negative"),
    ("lp-unequal-mass", lambda: losses.wasserstein_lp(F32, F32, a=[0.5] * 4), ValueError, "equal total mass"),
    ("lp-nan", lambda: losses.wasserstein_lp(NAN, F32[:3]), ValueError, "non-finite"),
    # optimal transport
    ("assignment-sizes", lambda: ot.assignment(F32, F32[:3]), ValueError, "equal sizes"),
    ("assignment-nan", lambda: ot.assignment(NAN, F32[:3]), ValueError, "non-finite values (NaN or inf) in 1"),
    ("sinkhorn-epsilon", lambda: ot.sinkhorn(F32, F32, epsilon=0.0), ValueError, "`epsilon`"),
    ("sinkhorn-negative", lambda: ot.sinkhorn(F32, F32, epsilon=0.1, a=[0.5, 0.5, 0.5, -0.5]), ValueError,
     "non-negative"),
    ("sinkhorn-mass", lambda: ot.sinkhorn(F32, F32, epsilon=0.1, a=[0.5] * 4), ValueError, "equal total mass"),
    ("sinkhorn-weights-shape", lambda: ot.sinkhorn(F32, F32, epsilon=0.1, b=[1.0]), ValueError, "shape (4,)"),
    ("sinkhorn-weights-nan", lambda: ot.sinkhorn(F32, F32, epsilon=0.1, b=[np.nan] * 4), ValueError, "non-finite"),
    ("sinkhorn-scaling", lambda: ot.sinkhorn(F32, F32, epsilon=0.1, epsilon_init=0.5), ValueError, "epsilon_init"),
    ("sinkhorn-iterations", lambda: ot.sinkhorn(F32, F32, epsilon=0.1, iterations=0), ValueError, "`iterations`"),
    ("sinkhorn-complex", lambda: ot.sinkhorn(F32.astype(np.complex64), F32, epsilon=0.1), TypeError, "complex"),
    ("divergence-epsilon", lambda: ot.sinkhorn_divergence(F32, F32, epsilon=-1.0), ValueError, "`epsilon`"),
    ("pairs-method", lambda: ot.regression_pairs(np.ones((4, 4)) / 16, F32, method="best"), ValueError, "`method`"),
    ("pairs-plan-shape", lambda: ot.regression_pairs(np.ones((3, 4)), F32), ValueError, "`plan`"),
    ("pairs-sample-key", lambda: ot.regression_pairs(np.ones((4, 4)) / 16, F32, method="sample"), ValueError, "key"),
    ("w2-method", lambda: ot.w2_squared(F32, F32, method="greedy"), ValueError, "`method`"),
    ("w2-game-recompute", lambda: ot.w2_game(lambda p, z: z, F32, F32, recompute_every=0), ValueError,
     "`recompute_every`"),
    ("w2-game-nan", lambda: ot.w2_game(lambda p, z: z, NAN, F32[:3]), ValueError, "non-finite"),
    ("w2-game-generator", lambda: ot.w2_game(3, F32, F32), TypeError, "`generator`"),
    # evaluation metrics
    ("memorization-sizes", lambda: metrics.memorization(F32, F32[:3]), ValueError, "equal sizes"),
    ("coverage-shape", lambda: metrics.mode_coverage(np.ones((4, 3)), ring8()), ValueError, "`samples`"),
    ("ks-method", lambda: metrics.ks_test(np.ones(3), np.ones(3), method="exactish"), ValueError, "`method`"),
    ("ks-2d", lambda: metrics.ks_test(F32, np.ones(3)), ValueError, "1-D"),
    ("welch-one", lambda: metrics.welch_t_test(np.ones(1), np.ones(3)), ValueError, "at least 2"),
    ("permutation-count", lambda: metrics.mmd_permutation_test(F32, F32, KEY, num_permutations=0), ValueError,
     "num_permutations"),
    ("frechet-features", lambda: metrics.frechet_distance(F32, F32, features="cifar"), ValueError, "features"),
    ("frechet-one-sample", lambda: metrics.frechet_distance(F32[:1], F32), ValueError, "at least 2"),
    ("frechet-nan", lambda: metrics.frechet_distance(NAN, F32), ValueError, "non-finite"),
    ("precision-k", lambda: metrics.precision_recall(F32, F32, k=4), ValueError, "`k`"),
    ("coverage-k", lambda: metrics.density_coverage(F32, F32, k=0), ValueError, "`k`"),
    ("kid-complex", lambda: metrics.kernel_distance(F32.astype(np.complex64), F32), TypeError, "complex"),
    # data
    ("mnist-split", lambda: load_mnist(split="validation"), ValueError, "`split`"),
    ("mnist-scale", lambda: load_mnist_subset(4, scale="minmax"), ValueError, "`scale`"),
    ("mnist-n", lambda: load_mnist_subset(5000), ValueError, "`n`"),
    ("mnist-missing", lambda: load_mnist("/nonexistent"), FileNotFoundError, "no MNIST file"),
    ("minibatches-size", lambda: minibatches(F32, 5), ValueError, "`batch_size`"),
    ("minibatches-scalar", lambda: minibatches(1.0, 1), ValueError, "leading axis"),
    ("mixture-batches", lambda: ring8().batches(0), ValueError, "`n`"),
    ("latent-batch", lambda: normal_latent(0), ValueError, "`batch_size`"),
    # GAN games and models
    ("gan-generator", lambda: gan_game(3, None, losses.mmd2, F32, F32), TypeError, "`generator_apply`"),
    ("gan-no-critic", lambda: gan_game(lambda p, z: z, None, DISTANCES["js"], F32, F32), TypeError, "critic_apply"),
    ("gan-nan-data", lambda: gan_game(lambda p, z: z, lambda w, x: x[:, 0], DISTANCES["js"], NAN, F32), ValueError,
     "non-finite"),
    ("gan-scalar-data", lambda: gan_game(lambda p, z: z, lambda w, x: x[:, 0], DISTANCES["js"], 1.0, F32),
     ValueError, "leading batch axis"),
    ("gan-complex-latent", lambda: gan_game(lambda p, z: z, lambda w, x: x[:, 0], DISTANCES["js"], F32,
                                            F32.astype(np.complex64)), TypeError, "complex"),
    ("gan-objective-regularizers", lambda: gan_game(lambda p, z: z, None, lambda r, f, k: 0.0, F32, F32,
                                                    regularizers=[losses.r1_penalty]), ValueError, "critic_apply=None"),
    ("gan-distance-string", lambda: gan_game(lambda p, z: z, None, "js", F32, F32), TypeError, "Distance"),
    ("init-players", lambda: init_players(lambda p, z: z, None, KEY, F32), TypeError, "`generator`"),
    ("activation", lambda: models.activation("swish"), ValueError, "unknown activation 'swish'"),
    ("nnx-model", lambda: models.nnx_model(models.MLPCritic()), TypeError, "nnx"),
    ("conv-generator-shape", lambda: models.ConvGenerator(image_shape=(30, 30, 1)).init(KEY, jnp.ones((1, 4))),
     ValueError, "divisible by 4"),
    ("conv-critic-2d", lambda: models.ConvCritic().init(KEY, jnp.ones((2, 784))), ValueError, "(batch, H, W, C)"),
    ("read-idx-magic", lambda: read_idx(__file__, 2051), ValueError, "magic number"),
    # diagnostics
    ("spectral-radius-field-fn", lambda: spectral_radius(EG, None, P), TypeError, "`field_fn` must be callable"),
    ("spectral-radius-rule", lambda: spectral_radius("eg", FIELD, P), TypeError, "`rule`"),
    ("spectral-radius-params", lambda: spectral_radius(EG, FIELD, None), ValueError, "`params`"),
    ("jacobian-field-fn", lambda: field_jacobian(3, P), TypeError, "`field_fn`"),
    ("top-eigenvalues-which", lambda: diagnostics.top_field_eigenvalues(FIELD, P, which="XX"), ValueError, "`which`"),
    # the traced-values mode
    ("checked-nan-under-jit", lambda: validation.checked(jax.jit(losses.mmd2))(jnp.asarray(NAN), jnp.asarray(
        F32[:3]))[0].throw(), Exception, "non-finite"),
]


@pytest.mark.parametrize("call, error, fragment", [c[1:] for c in API_CASES], ids=[c[0] for c in API_CASES])
def test_public_api_bad_input_is_a_clear_error(call, error, fragment):
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    assert fragment in message, message
    assert "Traceback" not in message and len(message) < 600, message


CLI_CASES = [
    ("dirac-steps", ["dirac", "--steps", "-5"], "--steps"),
    ("dirac-tau", ["dirac", "--tau", "0"], "--tau"),
    ("dirac-lr-nan", ["dirac", "--lr", "nan"], "--lr"),
    ("dirac-seeds", ["dirac", "--seeds", "0"], "--seeds"),
    ("dirac-method", ["dirac", "--methods", "sgd"], "unknown method"),
    ("dirac-distance", ["dirac", "--distances", "kl"], "unknown distance"),
    ("dirac-seeds-word", ["dirac", "--seeds", "many"], "--seeds"),
    ("dirac-out", ["dirac", "--out", "/proc/minimax"], "--out"),
    ("dirac-checkpoint", ["dirac", "--checkpoint-every", "-2"], "--checkpoint-every"),
    ("mnist32-steps", ["mnist32", "--steps", "0"], "--steps"),
    ("mnist32-method", ["mnist32", "--methods", "adamw"], "unknown method"),
    ("mnist32-lr", ["mnist32", "--lr", "-1"], "--lr"),
    ("mnist32-width", ["mnist32", "--width", "0"], "--width"),
    ("mnist32-latent", ["mnist32", "--latent-dim", "0"], "--latent-dim"),
    ("mnist32-distance", ["mnist32", "--distances", "kl"], "unknown distance"),
    ("mnist32-optimizer", ["mnist32", "--optimizer", "rmsprop"], "--optimizer"),
    ("mnist32-out", ["mnist32", "--out", "/proc/minimax"], "--out"),
    ("mixture-tau", ["mixture", "--tau", "0"], "--tau"),
    ("mixture-seeds", ["mixture", "--seeds", "0"], "--seeds"),
    ("mixture-batch", ["mixture", "--batch", "0"], "--batch"),
    ("mixture-method", ["mixture", "--methods", "sgd"], "unknown method"),
    ("mixture-distance", ["mixture", "--distances", "kl"], "unknown distance"),
    ("mixture-critic-steps", ["mixture", "--critic-steps", "0"], "--critic-steps"),
    ("mixture-gp-weight", ["mixture", "--gp-weight", "0"], "--gp-weight"),
    ("mixture-lr", ["mixture", "--lr", "-1"], "--lr"),
    ("mixture-name", ["mixture", "--mixture", "ring9"], "--mixture"),
    ("mixture-out", ["mixture", "--out", "/proc/minimax"], "--out"),
    ("w2-data", ["w2", "--data", "cifar10"], "--data"),
    ("w2-coupling", ["w2", "--couplings", "greedy"], "unknown coupling"),
    ("w2-epsilon", ["w2", "--epsilon", "0"], "--epsilon"),
    ("w2-recompute", ["w2", "--recompute-every", "-1"], "--recompute-every"),
    ("w2-steps", ["w2", "--steps", "0"], "--steps"),
    ("w2-out", ["w2", "--out", "/proc/minimax"], "--out"),
    ("bench-seeds", ["bench", "--seeds", "0"], "--seeds"),
    ("bench-repeats", ["bench", "--repeats", "0"], "--repeats"),
    ("bench-out", ["bench", "--out", "/proc/minimax"], "--out"),
    ("report-missing", ["report", "/nonexistent/results"], "does not exist"),
    ("unknown-command", ["train"], "invalid choice"),
    ("unknown-flag", ["dirac", "--sedes", "4"], "unrecognized arguments"),
]


@pytest.mark.parametrize("argv, needle", [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES])
def test_cli_usage_errors_are_one_line_with_status_2(argv, needle, capsys):
    try:
        code = cli.main(argv)
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1 and "Traceback" not in err, err


def test_an_internal_error_is_one_line_and_a_log_with_the_traceback(tmp_path, monkeypatch, capsys):
    from minimax.experiments import dirac

    def broken(args):
        raise RuntimeError("something inside broke")

    monkeypatch.setattr(dirac, "main", broken)
    assert cli.main(["dirac", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "internal error: RuntimeError: something inside broke" in err
    log = (tmp_path / "minimax-error.log").read_text()
    assert "Traceback" in log and "something inside broke" in log


def test_results_are_written_atomically(tmp_path, monkeypatch):
    """A crash while writing leaves the previous file intact and no temporary file behind."""
    import json

    from minimax import results
    results.write_results(str(tmp_path), "r", {"a": 1}, [{"x": 1}])
    before = (tmp_path / "r.json").read_text()

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(json, "dump", explode)
    with pytest.raises(OSError, match="disk full"):
        results.write_results(str(tmp_path), "r", {"a": 2}, [{"x": 2}])
    assert (tmp_path / "r.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv", "r.json"]


# ----------------------------------------------------------------------------- fuzz: clear error or correct value

DTYPES = [np.float32, np.float64, np.int32, np.bool_, np.complex64]


@st.composite
def sample_sets(draw):
    n = draw(st.integers(0, 5))
    m = draw(st.integers(0, 5))
    d = draw(st.integers(0, 3))
    shape_x = (n,) + (() if d == 0 else (d,))
    shape_y = (m,) + (() if draw(st.booleans()) == (d == 0) else (draw(st.integers(1, 3)),))
    dtype = draw(st.sampled_from(DTYPES))
    x = np.asarray(draw(st.lists(st.floats(-3, 3, width=32), min_size=int(np.prod(shape_x)),
                                 max_size=int(np.prod(shape_x)))), np.float64).reshape(shape_x)
    y = np.asarray(draw(st.lists(st.floats(-3, 3, width=32), min_size=int(np.prod(shape_y)),
                                 max_size=int(np.prod(shape_y)))), np.float64).reshape(shape_y)
    if x.size and draw(st.booleans()) and draw(st.booleans()):
        x.flat[draw(st.integers(0, x.size - 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    with np.errstate(invalid="ignore"):  # NaN cast to an integer dtype: any integer will do
        return x.astype(dtype), y.astype(dtype)


def brute_mmd2(x, y):
    x, y = (np.asarray(v, np.float64).reshape(len(v), -1) for v in (x, y))
    k = lambda a, b: sum(np.exp(-((a[:, None] - b[None]) ** 2).sum(-1) / (2 * s**2)) for s in (1, 2, 4, 8, 16))
    return k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean()


def brute_energy(x, y):
    x, y = (np.asarray(v, np.float64).reshape(len(v), -1) for v in (x, y))
    d = lambda a, b: np.sqrt(((a[:, None] - b[None]) ** 2).sum(-1)).mean()
    return 2 * d(x, y) - d(x, x) - d(y, y)


@settings(max_examples=60, deadline=None)
@given(sample_sets())
def test_fuzz_sample_distances_give_a_clear_error_or_the_brute_force_value(xy):
    x, y = xy
    for fn, reference in ((losses.mmd2, brute_mmd2), (losses.energy_distance, brute_energy)):
        try:
            value = float(fn(x, y))
        except (ValueError, TypeError) as err:
            assert fn.__name__ in str(err) and ("`x`" in str(err) or "`y`" in str(err)), str(err)
            continue
        assert np.isfinite(value)
        np.testing.assert_allclose(value, reference(x, y), rtol=2e-3, atol=2e-4)


@settings(max_examples=40, deadline=None)
@given(sample_sets())
def test_fuzz_couplings_give_a_clear_error_or_the_optimal_cost(xy):
    from scipy.optimize import linear_sum_assignment
    x, y = xy
    try:
        result = ot.assignment(x, y)
    except (ValueError, TypeError) as err:
        assert "assignment" in str(err), str(err)
        return
    xf, yf = (np.asarray(v, np.float64).reshape(len(v), -1) for v in (x, y))
    cost = ((xf[:, None] - yf[None]) ** 2).sum(-1)
    rows, cols = linear_sum_assignment(cost)
    assert np.isfinite(float(result.cost))
    np.testing.assert_allclose(float(result.cost), cost[rows, cols].mean(), rtol=1e-4, atol=1e-4)
    try:
        plan = ot.sinkhorn(x, y, epsilon=0.5, relative_epsilon=True).plan
    except (ValueError, TypeError) as err:
        assert "sinkhorn" in str(err), str(err)
        return
    plan = np.asarray(plan)
    assert np.all(np.isfinite(plan)) and np.all(plan >= 0)
    np.testing.assert_allclose(plan.sum(), 1.0, rtol=1e-3)
