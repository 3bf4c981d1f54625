"""Memorization of 32 MNIST digits: which (distance, update rule, τ) reach a global solution?

The empirical-risk setting of the reference talk (shared/references/000; Lee, "Zero-Infinity
GAN", NeurIPS OPT 2025): the 32 training digits x₁..x₃₂ (the first 32 shipped MNIST test
images, pixels in [0, 1]) and a fixed set of 32 latent codes ẑ₁..ẑ₃₂ ~ N(0, I), full batch
every step. A global solution of R̃(θ) = D(ν̂, (G_θ)#ξ̂) reproduces all 32 digits; we
measure it with the optimal one-to-one matching of G_θ(ẑ) to the digits
(:func:`minimax.metrics.memorization`: a digit counts when its match is within 0.1 on every
pixel) and record the memorized fraction and the mean matched distance along training.

For each distance and update rule, all τ (and lr) values and all seeds run vmapped in one
compiled program. Seeds draw the networks' initial weights; the latent set is shared.

Models (defaults): generator MLP ẑ (16) → 128 → 128 → 784 (ReLU, sigmoid output);
critic MLP 784 → 128 → 128 → 1 (LeakyReLU 0.2); see :mod:`minimax.models`. Inner
optimizer: SGD(η) (``--optimizer adam`` gives Adam(η, β₁ = 0.5), so ``eg`` is Extra-Adam),
then Λ_τ; the run enforces the distance's critic projection (Wasserstein: weight clipping at
0.01) at every half-step.
"""
from __future__ import annotations

import math
import os
import sys
import time
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from minimax import train, updates
from minimax.data import mnist32
from minimax.experiments.common import (OPTIMIZERS, add_run_arguments, fill_defaults, require_known,
                                        require_positive_floats, require_positive_ints, run_sweep,
                                        validate_run_arguments)
from minimax.games.gan import gan_game, init_players
from minimax.losses.distances import DISTANCES
from minimax.metrics import MEMORIZATION_TOL, memorization
from minimax.models import MLPCritic, MLPGenerator
from minimax.plots import image_mosaic, seed_bands
from minimax.results import format_table, write_results

DEFAULTS = {"seeds": 4, "steps": 10_000, "width": 128}
QUICK = {"seeds": 2, "steps": 200, "width": 32}
TABLE_COLUMNS = ("distance", "method", "tau", "lr", "seeds", "memorized_fraction_mean", "memorized_fraction_min",
                 "memorized_fraction_best", "mean_matched_distance_mean", "diverged")


def build_game(distance, data, latents, width):
    """The full-batch empirical-risk game with the default MLPs: ``(game, generator, critic)``.

    The digits and the latent codes are the game's ``args`` (traced, not constants)."""
    generator = MLPGenerator(data_shape=tuple(data.shape[1:]), widths=(width, width), out_activation="sigmoid")
    critic = MLPCritic(widths=(width, width))
    init = partial(init_players, generator, critic, latent=jnp.zeros_like(latents))
    game = gan_game(generator.apply, critic.apply, DISTANCES[distance], data, latents, sample_init=init)
    return game, generator, critic


def make_rule(method, optimizer):
    """``hp -> rule``: the registered rule around the optimizer with step hp["lr"], then Λ_τ (hp["tau"])."""
    return lambda hp: updates.rule(method, updates.timescaled(OPTIMIZERS[optimizer](hp["lr"]), hp["tau"]))


def memorization_metrics(generator):
    """Metrics of the memorization study: memorized fraction and mean matched distance of G(ẑ)."""
    def metrics(params, key, game, game_state):
        data, latents = game.args
        m = memorization(generator.apply(params.min, latents), data)
        return {"memorized_fraction": m.fraction, "mean_matched_distance": m.mean_distance}
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


def run_configuration(distance, method, hparams, keys, *, data, latents, optimizer, steps, record_every, width,
                      sweep=train.sweep):
    """One (distance, method) over the (lr, τ) grid and all seeds in one program (leading axes: grid, seeds).

    Returns (trajectory, diverged, matched samples G(ẑ))."""
    game, generator, critic = build_game(distance, data, latents, width)
    result = sweep(game, make_rule(method, optimizer), hparams, keys, steps=steps, record_every=record_every,
                   metrics=memorization_metrics(generator))
    return result.trajectory, result.diverged, matched_samples(generator, result.eval_params.min, data, latents)


def _label(distance, method, tau):
    short = {"js": "JS", "zero_infinity": "ZI", "wasserstein": "W"}.get(distance, distance)
    return f"{short}-{method.upper()} (τ={tau:g})"


def add_arguments(parser):
    parser.add_argument("--distances", nargs="+", default=["js", "zero_infinity"],
                        help=f"among {', '.join(DISTANCES)}; default js zero_infinity")
    parser.add_argument("--methods", nargs="+", default=["gda", "eg"],
                        help=f"update rules among {', '.join(updates.RULES)}; default gda eg")
    parser.add_argument("--tau", type=float, nargs="+", default=[1.0, 5.0], help="timescale(s) τ, default 1 5")
    parser.add_argument("--lr", type=float, nargs="+", default=[1e-4], help="step size(s) η, default 1e-4")
    parser.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="sgd",
                        help="inner optimizer, default sgd (adam: eg is Extra-Adam)")
    parser.add_argument("--seeds", type=int, default=None, help=f"seeds, default {DEFAULTS['seeds']}")
    parser.add_argument("--steps", type=int, default=None, help=f"steps, default {DEFAULTS['steps']}")
    parser.add_argument("--width", type=int, default=None, help=f"hidden width of both MLPs, default {DEFAULTS['width']}")
    parser.add_argument("--latent-dim", type=int, default=16, help="latent dimension, default 16")
    parser.add_argument("--seed", type=int, default=0, help="base PRNG seed (latent codes and seeds), default 0")
    parser.add_argument("--quick", action="store_true",
                        help=f"small run for CI and notebooks: {QUICK['seeds']} seeds, {QUICK['steps']} steps, width {QUICK['width']}")
    add_run_arguments(parser, checkpoint_every=5)


def validate(args):
    fill_defaults(args, DEFAULTS, QUICK)
    validate_run_arguments(args)
    require_positive_ints(args, "seeds", "steps", "width", "latent_dim")
    require_positive_floats(args, "lr", "tau")
    require_known("distance", args.distances, DISTANCES)
    require_known("method", args.methods, updates.RULES)


def main(args) -> int:
    validate(args)
    data, labels = mnist32(scale="unit")
    k_latent, k_seeds = jax.random.split(jax.random.PRNGKey(args.seed))
    latents = jax.random.normal(k_latent, (data.shape[0], args.latent_dim))
    keys = jax.random.split(k_seeds, args.seeds)
    record_every = math.gcd(args.steps, max(1, args.steps // 50))
    record_steps = np.arange(0, args.steps + 1, record_every)
    hparams = train.hyperparameter_grid(lr=args.lr, tau=args.tau)
    rows, panels, curves, matched_curves = [], [], {}, {}
    configs = [(d, m) for d in args.distances for m in args.methods]
    start = time.perf_counter()
    for i, (distance, method) in enumerate(configs, 1):
        trajectory, diverged, samples = run_configuration(
            distance, method, hparams, keys, data=data, latents=latents, optimizer=args.optimizer, steps=args.steps,
            record_every=record_every, width=args.width, sweep=partial(run_sweep, args, "mnist32", f"{distance}_{method}"))
        fraction = np.asarray(trajectory["memorized_fraction"])
        matched = np.asarray(trajectory["mean_matched_distance"])
        diverged = np.asarray(diverged)
        for h, (lr, tau) in enumerate(zip(np.asarray(hparams["lr"]).tolist(), np.asarray(hparams["tau"]).tolist())):
            rows.append({
                "distance": distance, "method": method, "optimizer": args.optimizer, "tau": tau, "lr": lr,
                "seeds": args.seeds, "steps": args.steps,
                "memorized_fraction_mean": float(fraction[h, :, -1].mean()),
                "memorized_fraction_min": float(fraction[h, :, -1].min()),
                "memorized_fraction_max": float(fraction[h, :, -1].max()),
                "memorized_fraction_best": float(fraction[h].max()),
                "mean_matched_distance_mean": float(matched[h, :, -1].mean()),
                "diverged": int(diverged[h].sum()), "diverged_seeds": np.flatnonzero(diverged[h]).tolist(),
                "memorized_fraction_trajectory_mean": fraction[h].mean(0),
                "mean_matched_distance_trajectory_mean": matched[h].mean(0),
            })
            label = _label(distance, method, tau) + (f", η={lr:g}" if len(args.lr) > 1 else "")
            panels.append((label, np.asarray(samples[h, 0])))
            curves[label] = fraction[h]
            matched_curves[label] = matched[h]
        print(f"[{i}/{len(configs)}] {distance:>13} {method:<8} {time.perf_counter() - start:7.1f}s", file=sys.stderr)

    config = {"data": "mnist32 (first 32 shipped MNIST test digits, pixels in [0, 1])", "labels": np.asarray(labels),
              "seeds": args.seeds, "steps": args.steps, "lr": args.lr, "tau": args.tau, "optimizer": args.optimizer,
              "distances": args.distances, "methods": args.methods, "width": args.width,
              "latent_dim": args.latent_dim, "seed": args.seed, "record_every": record_every,
              "record_steps": record_steps, "memorization_tol": MEMORIZATION_TOL, "quick": args.quick,
              "generator": f"MLP {args.latent_dim}-{args.width}-{args.width}-784, ReLU, sigmoid output",
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
