"""Memorization of 32 MNIST digits: which (distance, update rule, τ) reach a global solution?

The empirical-risk setting of the reference talk (shared/references/000; Lee, "Zero-Infinity
GAN", NeurIPS OPT 2025): 32 training digits x₁..x₃₂ (shipped MNIST test images K..K+31,
``--digit-offset K``; pixels in [0, 1], or [−1, 1] with ``--data-range symmetric``) and a
fixed set of 32 latent codes ẑ₁..ẑ₃₂ ~ N(0, I), full batch every step. A global solution of
R̃(θ) = D(ν̂, (G_θ)#ξ̂) reproduces all 32 digits; we measure it with the optimal one-to-one
matching of G_θ(ẑ) to the digits (:func:`minimax.metrics.memorization`: a digit counts when its
match is within 0.1 on every pixel, 0.2 on the [−1, 1] range) and record the memorized
fraction, the mean matched distance, the critic's parameter norm ‖w‖ and the stiffness
|λ|max(∂F) along training, and at the end how many digits are the nearest neighbour of some
sample (:func:`minimax.metrics.distinct_nearest`: 32 = all, 1 = every sample nearest to the
same digit, i.e. mode collapse).

Step sizes. GDA, EG and alternating GDA run on plain steps chosen from the measured stiffness:
η_k = min(c/|λ|max(∂F(p_k)), η_max) (:func:`minimax.updates.stiffness_sgd`; c = 0.5, η_max = 0.1),
|λ|max re-estimated matrix-free at every record (every steps/25; every K steps with ``--refresh-every K``),
then Λ_τ = diag(I/τ, I) (the generator's step is η_k/τ);
``--lr`` replaces the adaptive schedule by fixed steps η. ``extra_adam`` is EG around
Adam(``--adam-lr``, β₁ = 0.5). The continuous time t = Σ_k η_k reached by each run (up to its divergence)
is reported, from the η each step applied.

Configurations (default): JS and zero-infinity (ZI) × {GDA, EG} × τ ∈ {1, 5} (the talk's 8),
plus Extra-Adam and alternating GDA with 5 critic steps, 16 seeds each, all seeds and
hyperparameters of one configuration vmapped in one compiled program; seeds draw the networks'
initial weights, the latent set is shared. ``--methods``/``--tau`` replace the list by their
product.

Models: generator MLP ẑ (16) → W → W → 784 (ReLU; sigmoid output on [0, 1], tanh on [−1, 1]);
critic MLP 784 → W → W → 1 (LeakyReLU 0.2), W = ``--width`` (default 128); see
:mod:`minimax.models`. The run enforces the distance's critic projection at every half-step.
"""
from __future__ import annotations

import os
import sys
import time
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax

from minimax import diagnostics, train, updates
from minimax.data import load_mnist, load_mnist_subset
from minimax.experiments.common import (UsageError, add_records_argument, add_run_arguments, block_length,
                                        fill_defaults, require_known, require_positive_floats, require_positive_ints,
                                        run_sweep, validate_run_arguments)
from minimax.games.gan import gan_game, init_players
from minimax.losses.distances import DISTANCES
from minimax.metrics import MEMORIZATION_TOL, distinct_nearest, memorization
from minimax.models import MLPCritic, MLPGenerator
from minimax.plots import image_mosaic, seed_bands
from minimax.results import format_table, write_results
from minimax.train.run import tree_norm

DIGITS = 32
#: data range -> (load_mnist_subset scale, generator output activation, memorization tolerance)
DATA_RANGES = {"unit": ("unit", "sigmoid", MEMORIZATION_TOL), "symmetric": ("symmetric", "tanh", 2 * MEMORIZATION_TOL)}
#: method name -> (rule factory inner -> rule, inner optimizer kind)
METHODS = {"gda": (updates.simultaneous, "plain"), "eg": (updates.extragradient, "plain"),
           "alt_gda5": (updates.RULES["alt_gda5"], "plain"), "extra_adam": (updates.extragradient, "adam")}
DEFAULT_CONFIGS = (("gda", 1.0), ("gda", 5.0), ("eg", 1.0), ("eg", 5.0), ("extra_adam", 1.0), ("alt_gda5", 1.0))
DEFAULTS = {"seeds": 16, "steps": 2000, "width": 128}
QUICK = {"seeds": 2, "steps": 200, "width": 32}
RECORDS = 25
KRYLOV_DIM = 10
TABLE_COLUMNS = ("distance", "method", "tau", "step", "seeds", "memorized_fraction_mean", "memorized_fraction_min",
                 "memorized_fraction_max", "mean_matched_distance_mean", "nearest_digits_median", "continuous_time_median",
                 "stiffness_final_median", "critic_norm_final_median", "diverged")


def digits(offset: int = 0, data_range: str = "unit"):
    """Shipped MNIST test digits offset..offset+31, (32, 784) on the range's scale, and their labels."""
    data, labels = load_mnist_subset(offset + DIGITS, scale=DATA_RANGES[data_range][0])
    return data[offset:], labels[offset:]


def build_game(distance, data, latents, width, data_range: str = "unit"):
    """The full-batch empirical-risk game with the default MLPs: ``(game, generator, critic)``.

    The digits and the latent codes are the game's ``args`` (traced, not constants)."""
    generator = MLPGenerator(data_shape=tuple(data.shape[1:]), widths=(width, width),
                             out_activation=DATA_RANGES[data_range][1])
    critic = MLPCritic(widths=(width, width))
    init = partial(init_players, generator, critic, latent=jnp.zeros_like(latents))
    game = gan_game(generator.apply, critic.apply, DISTANCES[distance], data, latents, sample_init=init)
    return game, generator, critic


def make_rule(method):
    """``hp -> rule``: ``method`` around its inner step, then Λ_τ (hp["tau"]).

    The inner step is η_k = min(hp["c"]/|λ|max, hp["max_step"]) (:func:`minimax.updates.stiffness_sgd`;
    no cap without ``max_step``) when hp has ``c``, fixed SGD(hp["lr"]) otherwise, and Adam(hp["lr"], β₁ = 0.5) for ``extra_adam``."""
    factory, kind = METHODS[method]

    def rule(hp):
        if kind == "adam":
            step = optax.adam(hp["lr"], b1=0.5)
        elif "c" in hp:
            step = updates.stiffness_sgd(hp["c"], max_step=hp.get("max_step"), krylov_dim=KRYLOV_DIM)
        else:
            step = optax.sgd(hp["lr"])
        return factory(updates.timescaled(step, hp["tau"]))
    return rule


def memorization_metrics(generator, tol: float = MEMORIZATION_TOL, *, stiffness: bool = True):
    """Memorized fraction and mean matched distance of G(ẑ), the critic's norm ‖w‖ and (with ``stiffness``)
    |λ|max(∂F) (:func:`minimax.diagnostics.stiffness_metric`)."""
    spectrum = diagnostics.stiffness_metric(KRYLOV_DIM) if stiffness else None

    def metrics(params, key, game, game_state):
        data, latents = game.args
        m = memorization(generator.apply(params.min, latents), data, tol=tol)
        out = {"memorized_fraction": m.fraction, "mean_matched_distance": m.mean_distance,
               "critic_norm": tree_norm(params.max)}
        return out if spectrum is None else {**out, **spectrum(params, key, game, game_state)}
    return metrics


@partial(jax.jit, static_argnums=(0, 4))
def matched_samples(generator, gen_params, data, latents, batch_dims: int = 2):
    """G(ẑ) of every run (``batch_dims`` leading axes of ``gen_params``), ordered as their matched digits."""
    def one(p):
        samples = generator.apply(p, latents)
        return samples[memorization(samples, data).perm]
    for _ in range(batch_dims):
        one = jax.vmap(one)
    return one(gen_params)


def run_configuration(distance, method, hparams, keys, *, data, latents, steps, record_every, width,
                      data_range: str = "unit", refresh_every=None, sweep=train.sweep):
    """One (distance, method) over the hyperparameter grid and all seeds in one program (leading axes: grid, seeds).

    Returns (trajectory, diverged, matched samples G(ẑ), continuous time t per run: :func:`continuous_time`)."""
    game, generator, critic = build_game(distance, data, latents, width, data_range)
    result = sweep(game, make_rule(method), hparams, keys, steps=steps, record_every=record_every,
                   refresh_every=refresh_every, metrics=memorization_metrics(generator, DATA_RANGES[data_range][2]))
    lr = None if "c" in hparams else hparams["lr"]  # a fixed step has no step_size statistic
    time_ = continuous_time(result.stats.get("step_size"), lr, record_every, steps, result.state.diverged_step)
    return (result.trajectory, result.diverged, matched_samples(generator, result.eval_params.min, data, latents),
            time_)


def continuous_time(step_size, lr, record_every: int, steps: int, diverged_step):
    """t = Σ_k η_k per run, up to the record block in which a run diverged: ``step_size`` (..., blocks) is the
    adaptive η averaged over each block of ``record_every`` steps (the run's ``step_size`` statistic), or None
    with ``lr`` (H,) the fixed η of each grid point. ``diverged_step`` (..., ) is −1 for a finite run."""
    stop = np.where(np.asarray(diverged_step) < 0, steps, np.asarray(diverged_step))
    if step_size is None:
        return np.asarray(lr, float)[:, None] * stop
    step_size = np.asarray(step_size, float)
    starts = record_every * np.arange(step_size.shape[-1])
    return np.sum(np.where(starts < stop[..., None], record_every * step_size, 0.0), axis=-1)


def _label(distance, method, tau, step_text):
    short = {"js": "JS", "zero_infinity": "ZI", "wasserstein": "W"}.get(distance, distance)
    return f"{short}-{method.upper().replace('_', '-')} (τ={tau:g}, {step_text})"


def add_arguments(parser):
    parser.add_argument("--distances", nargs="+", default=["js", "zero_infinity"],
                        help=f"among {', '.join(DISTANCES)}; default js zero_infinity")
    parser.add_argument("--methods", nargs="+", default=None,
                        help=f"among {', '.join(METHODS)}; default the configurations "
                             + ", ".join(f"{m} τ={t:g}" for m, t in DEFAULT_CONFIGS) + " (with --tau: their product)")
    parser.add_argument("--tau", type=float, nargs="+", default=None, help="timescale(s) τ (see --methods)")
    parser.add_argument("--step-scale", type=float, nargs="+", default=[0.5],
                        help="c in the adaptive step η_k = c/|λ|max(∂F(p_k)), default 0.5")
    parser.add_argument("--max-step", type=float, default=0.1,
                        help="cap η_max on the adaptive step (where the field flattens |λ|max → 0), default 0.1")
    parser.add_argument("--refresh-every", type=int, default=None,
                        help="re-estimate |λ|max for the adaptive step every K steps (K must divide the record "
                             "block); default once per record block")
    parser.add_argument("--lr", type=float, nargs="+", default=None,
                        help="fixed step size(s) η instead of the adaptive schedule (gda, eg, alt_gda5)")
    parser.add_argument("--adam-lr", type=float, nargs="+", default=[1e-3], help="Adam's η for extra_adam, default 1e-3")
    parser.add_argument("--data-range", choices=sorted(DATA_RANGES), default="unit",
                        help="pixels in [0, 1] (unit, sigmoid generator) or [-1, 1] (symmetric, tanh), default unit")
    parser.add_argument("--digit-offset", type=int, default=0,
                        help=f"train on shipped MNIST test digits K..K+{DIGITS - 1}, default 0")
    parser.add_argument("--seeds", type=int, default=None, help=f"seeds, default {DEFAULTS['seeds']}")
    parser.add_argument("--steps", type=int, default=None, help=f"steps, default {DEFAULTS['steps']}")
    parser.add_argument("--width", type=int, default=None, help=f"hidden width of both MLPs, default {DEFAULTS['width']}")
    parser.add_argument("--latent-dim", type=int, default=16, help="latent dimension, default 16")
    parser.add_argument("--seed", type=int, default=0, help="base PRNG seed (latent codes and seeds), default 0")
    parser.add_argument("--quick", action="store_true",
                        help=f"small run for CI and notebooks: {QUICK['seeds']} seeds, {QUICK['steps']} steps, width {QUICK['width']}")
    add_records_argument(parser, RECORDS)
    add_run_arguments(parser, checkpoint_every=5)


def validate(args):
    fill_defaults(args, DEFAULTS, QUICK)
    validate_run_arguments(args)
    require_positive_ints(args, "seeds", "steps", "records", "width", "latent_dim")
    require_positive_floats(args, "step_scale", "adam_lr", "max_step")
    if args.refresh_every is not None:
        require_positive_ints(args, "refresh_every")
        block = block_length(args.steps, args.records)
        if block % args.refresh_every:
            raise UsageError(f"--refresh-every must divide the record block of {block} steps (--steps {args.steps}, "
                             f"--records {args.records}), got {args.refresh_every}")
    for name in ("lr", "tau"):
        if getattr(args, name) is not None:
            require_positive_floats(args, name)
    require_known("distance", args.distances, DISTANCES)
    if args.methods is not None:
        require_known("method", args.methods, METHODS)
    shipped = load_mnist()[0].shape[0]
    if not 0 <= args.digit_offset <= shipped - DIGITS:
        raise UsageError(f"--digit-offset must be in [0, {shipped - DIGITS}] (the shipped MNIST subset holds "
                         f"{shipped} digits), got {args.digit_offset}")


def configurations(args):
    """[(method, [τ...])]: the default list, or the product of --methods (default all) and --tau (default 1)."""
    if args.methods is None and args.tau is None:
        grouped = {}
        for method, tau in DEFAULT_CONFIGS:
            grouped.setdefault(method, []).append(tau)
        return list(grouped.items())
    return [(m, list(args.tau or [1.0])) for m in (args.methods or list(METHODS))]


def hyperparameters(method, taus, args):
    """(kind, grid): the method's step hyperparameter ("c" of the adaptive step, or "lr": --lr, or Adam's
    --adam-lr for extra_adam) × τ, as a :func:`minimax.train.hyperparameter_grid`."""
    if METHODS[method][1] == "adam":
        kind, values = "lr", args.adam_lr
    else:
        kind, values = ("lr", args.lr) if args.lr else ("c", args.step_scale)
    if kind == "c":
        return kind, train.hyperparameter_grid(c=values, max_step=[args.max_step], tau=taus)
    return kind, train.hyperparameter_grid(**{kind: values}, tau=taus)


def _median(x):
    return float(np.median(x))


def main(args) -> int:
    validate(args)
    data, labels = digits(args.digit_offset, args.data_range)
    k_latent, k_seeds = jax.random.split(jax.random.PRNGKey(args.seed))
    latents = jax.random.normal(k_latent, (data.shape[0], args.latent_dim))
    keys = jax.random.split(k_seeds, args.seeds)
    record_every = block_length(args.steps, args.records)
    record_steps = np.arange(0, args.steps + 1, record_every)
    rows, panels, curves, matched_curves = [], [], {}, {}
    configs = [(d, m, taus) for d in args.distances for m, taus in configurations(args)]
    start = time.perf_counter()
    for i, (distance, method, taus) in enumerate(configs, 1):
        kind, grid = hyperparameters(method, taus, args)
        trajectory, diverged, samples, time_ = run_configuration(
            distance, method, grid, keys, data=data, latents=latents, steps=args.steps, record_every=record_every,
            width=args.width, data_range=args.data_range, refresh_every=args.refresh_every,
            sweep=partial(run_sweep, args, "mnist32", f"{distance}_{method}"))
        t = {k: np.asarray(v) for k, v in trajectory.items()}
        diverged = np.asarray(diverged)
        nearest = np.asarray(jax.vmap(jax.vmap(distinct_nearest, (0, None)), (0, None))(samples, data))
        for h, (value, tau) in enumerate(zip(np.asarray(grid[kind]).tolist(), np.asarray(grid["tau"]).tolist())):
            adaptive = kind == "c"
            step_text = f"η=min(c/|λ|max, {args.max_step:g}), c={value:g}" if adaptive else f"η={value:g}"
            fraction = t["memorized_fraction"][h]
            rows.append({
                "distance": distance, "method": method, "tau": tau, "step": step_text,
                "step_scale": value if adaptive else None, "lr": None if adaptive else value,
                "seeds": args.seeds, "steps": args.steps,
                "memorized_fraction_mean": float(fraction[:, -1].mean()),
                "memorized_fraction_min": float(fraction[:, -1].min()),
                "memorized_fraction_max": float(fraction[:, -1].max()),
                "memorized_fraction_best": float(fraction.max()),
                "mean_matched_distance_mean": float(t["mean_matched_distance"][h, :, -1].mean()),
                # digits that are the nearest neighbour of some final sample: 32 = all, 1 = full mode collapse
                "nearest_digits_median": _median(nearest[h]), "nearest_digits_min": int(nearest[h].min()),
                "nearest_digits_max": int(nearest[h].max()),
                "continuous_time_median": _median(time_[h]),
                "stiffness_initial_median": _median(t["stiffness"][h, :, 0]),
                "stiffness_final_median": _median(t["stiffness"][h, :, -1]),
                "critic_norm_final_median": _median(t["critic_norm"][h, :, -1]),
                "diverged": int(diverged[h].sum()), "diverged_seeds": np.flatnonzero(diverged[h]).tolist(),
                **{f"{k}_trajectory_median": np.median(t[k][h], axis=0)
                   for k in ("memorized_fraction", "mean_matched_distance", "stiffness", "critic_norm")},
                "memorized_fraction_trajectory_mean": fraction.mean(0),
            })
            label = _label(distance, method, tau, step_text)
            panels.append((label, np.asarray(samples[h, 0])))
            curves[label] = fraction
            matched_curves[label] = t["mean_matched_distance"][h]
        print(f"[{i}/{len(configs)}] {distance:>13} {method:<10} {time.perf_counter() - start:7.1f}s", file=sys.stderr)

    scale, out_activation, tol = DATA_RANGES[args.data_range]
    config = {"data": f"shipped MNIST test digits {args.digit_offset}..{args.digit_offset + DIGITS - 1}, "
                      f"pixels in {'[0, 1]' if scale == 'unit' else '[-1, 1]'}",
              "labels": np.asarray(labels), "digit_offset": args.digit_offset, "data_range": args.data_range,
              "seeds": args.seeds, "steps": args.steps, "step_scale": args.step_scale, "max_step": args.max_step, "lr": args.lr,
              "adam_lr": args.adam_lr, "configurations": [[m, taus] for m, taus in configurations(args)],
              "distances": args.distances, "width": args.width, "latent_dim": args.latent_dim, "seed": args.seed,
              "record_every": record_every, "record_steps": record_steps, "memorization_tol": tol,
              "krylov_dim": KRYLOV_DIM, "quick": args.quick,
              "refresh_every": args.refresh_every or record_every,
              "step_rule": "gda/eg/alt_gda5: eta_k = min(c/|lambda|max(dF(p_k)), max_step) re-estimated every refresh_every steps "
                           "(or fixed --lr), then diag(I/tau, I); extra_adam: EG around Adam(adam_lr, b1=0.5)",
              "generator": f"MLP {args.latent_dim}-{args.width}-{args.width}-784, ReLU, {out_activation} output",
              "critic": f"MLP 784-{args.width}-{args.width}-1, LeakyReLU(0.2)"}
    paths = write_results(args.out, "mnist32", config, rows)
    samples_png = os.path.join(args.out, "mnist32_samples.png")
    curve_png = os.path.join(args.out, "mnist32_memorization.png")
    image_mosaic([("training digits", np.asarray(data))] + panels, image_shape=(28, 28), cols=8,
                 title=f"G(ẑ) of seed 0 after {args.steps} steps, matched to the training digits", path=samples_png)
    distance_png = os.path.join(args.out, "mnist32_matched_distance.png")
    seed_bands(record_steps, curves, ylabel="memorized fraction",
               title="memorized fraction (median, min–max over seeds)", path=curve_png)
    seed_bands(record_steps, matched_curves, ylabel="mean matched distance ‖x − G(ẑ)‖",
               title="mean distance of each digit to its matched sample (median, min–max over seeds)",
               path=distance_png)
    print(format_table(rows, TABLE_COLUMNS))
    print(f"\nwrote {paths['json']}, {paths['csv']}, {samples_png}, {curve_png}, {distance_png} "
          f"({time.perf_counter() - start:.1f}s)")
    return 0
