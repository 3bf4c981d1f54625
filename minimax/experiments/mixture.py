"""Mode collapse on 2-D Gaussian mixtures: distances × update rules × τ, many seeds.

Population risk: every step draws a fresh batch from the mixture (ring of 8 or grid of 25
modes, :mod:`minimax.data`) and fresh latent codes z ~ N(0, I). For each distance and
update rule, all τ (and lr) values and all seeds run vmapped in one compiled program;
seeds draw the networks' initial weights and the training batches.

Recorded along training (every steps/20), on 512 generated samples from fixed codes:
modes covered and the high-quality fraction (:func:`minimax.metrics.mode_coverage`: a
mode counts when at least ⌈0.2·n/K⌉ samples lie within 3σ of its center), and MMD² to
512 target samples not used in training (Gaussian kernels of bandwidths σ·4^k, k = 0..3,
from the mode width to the mixture's extent). At the end, 256 generated samples are
compared with 256 held-out target samples (one set for all runs): exact W₂² (optimal
assignment) and three two-sample tests, the MMD permutation test (200 permutations, the
kernel above) and, on the first coordinate, the Kolmogorov–Smirnov (exact) and Welch t
tests; a low p-value says the test tells the generator from the target.
``config["target_vs_target"]`` holds the same numbers for fresh target samples: the
floor of W₂² at this sample size, and p-values under H₀. A seed whose parameters became
non-finite is frozen at its last finite point (its metrics are those of that point),
counted in ``diverged`` and named in ``diverged_seeds``.

Models (defaults): generator MLP z (8) → 32 → 32 → 2 (ReLU); critic MLP 2 → 32 → 32 → 1
(LeakyReLU 0.2); batch of 128 real and 128 generated samples per step; 3000 steps; 4
seeds; τ = 1 (``--tau 1 5`` adds a slower generator). Inner optimizer: Adam(η = 2e-3,
β₁ = 0.5) by default (``--optimizer sgd`` for plain steps; Adam reaches the narrow modes
within the short default budget), then Λ_τ = diag(I/τ, I); the run enforces the distance's
critic projection. Λ_τ comes *after* the optimizer: Adam divides each coordinate by its own
scale, so a Λ_τ before it would cancel; after it, τ divides the generator's step (with
SGD the same rule as Λ_τ before the step). ``mmd`` is the discriminator-free objective
MMD²(data, G(z)) with the kernel above (the critic player is empty).

References: Metz et al., "Unrolled generative adversarial networks", ICLR 2017 (ring);
Srivastava et al., "VEEGAN", NeurIPS 2017 (grid); Lin et al., "PacGAN", NeurIPS 2018.
"""
from __future__ import annotations

import math
import os
import sys
import time
from functools import partial

import jax
import numpy as np

from minimax import train, updates
from minimax.data import grid25, ring8
from minimax.experiments.common import (OPTIMIZERS, add_run_arguments, fill_defaults, require_known,
                                        require_positive_floats, require_positive_ints, run_sweep,
                                        validate_run_arguments)
from minimax.games.gan import gan_game, init_players, normal_latent
from minimax.losses.distances import DISTANCES
from minimax.losses.sample_distances import gaussian_kernel, mmd2
from minimax.metrics import MODE_COUNT_FRACTION, ks_test, mmd_permutation_test, mode_coverage, welch_t_test
from minimax.models import MLPCritic, MLPGenerator
from minimax.plots import scatter_panels, seed_band_panels
from minimax.results import format_table, write_results

MIXTURES = {"ring8": ring8, "grid25": grid25}
#: the discriminator-free objective, besides the critic distances of DISTANCES
MMD_OBJECTIVE = "mmd"
DEFAULT_DISTANCES = ("js", "ns", "wgan_gp", "zero_infinity", "lsgan", "hinge", "fgan_pearson", MMD_OBJECTIVE)
DEFAULTS = {"distances": list(DEFAULT_DISTANCES), "methods": ["gda", "eg"], "seeds": 4, "steps": 3000, "width": 32,
            "batch": 128}
QUICK = {"distances": ["js", MMD_OBJECTIVE], "methods": ["eg"], "seeds": 2, "steps": 60, "width": 16, "batch": 32}
EVAL_SAMPLES, TEST_SAMPLES, PERMUTATIONS = 512, 256, 200
TEST_LEVEL = 0.05
RECORDS = 20
TABLE_COLUMNS = ("distance", "method", "tau", "seeds", "modes_covered_mean", "modes_covered_min", "high_quality_mean",
                 "mmd2_mean", "w2_mean", "mmd_test_p_median", "ks_p_median", "welch_p_median", "diverged")


def kernel_bandwidths(mixture):
    """σ·4^k, k = 0..3: from the mode width to the mixture's extent."""
    return mixture.sigma * 4.0 ** np.arange(4)


def mixture_kernel(mixture):
    """The sum of Gaussian kernels with :func:`kernel_bandwidths` (training objective ``mmd`` and evaluation)."""
    return gaussian_kernel(kernel_bandwidths(mixture))


def build_game(distance: str, mixture, *, batch: int, latent_dim: int, width: int):
    """(game, generator, critic or None) for one distance, fresh data and latents each step.

    The mixture is a leaf of the game (its batches come from :meth:`GaussianMixture.batches`)."""
    generator = MLPGenerator(data_shape=(2,), widths=(width, width))
    data, latent = mixture.batches(batch), normal_latent(batch, latent_dim)
    critic = None if distance == MMD_OBJECTIVE else MLPCritic(widths=(width, width))
    init = partial(init_players, generator, critic, latent=latent)
    if distance == MMD_OBJECTIVE:
        kernel = mixture_kernel(mixture)
        objective = lambda real, fake, key: mmd2(real, fake, kernel)
        return gan_game(generator.apply, None, objective, data, latent, sample_init=init), generator, None
    return gan_game(generator.apply, critic.apply, DISTANCES[distance], data, latent, sample_init=init), \
        generator, critic


def coverage_metrics(generator, kernel, latent_dim: int):
    """Modes covered, high-quality fraction and MMD² to fresh target samples, on EVAL_SAMPLES generated ones."""
    def metrics(params, key, game, game_state):
        mixture = game.args[0].mixture
        k_z, k_x = jax.random.split(key)
        fake = generator.apply(params.min, jax.random.normal(k_z, (EVAL_SAMPLES, latent_dim)))
        cover = mode_coverage(fake, mixture)
        return {"modes_covered": cover.modes_covered, "high_quality": cover.high_quality,
                "mmd2": mmd2(mixture.sample(k_x, EVAL_SAMPLES), fake, kernel)}
    return metrics


def run_configuration(distance, method, hparams, keys, *, mixture, optimizer, steps, record_every, width, batch,
                      latent_dim, sweep=train.sweep):
    """One (distance, method) over the (lr, τ) grid and all seeds in one program.

    Returns (trajectory {modes_covered, high_quality, mmd2}, diverged, final samples
    (TEST_SAMPLES, 2) per run, drawn with a key of their own), with leading axes (grid, seeds).
    """
    game, generator, critic = build_game(distance, mixture, batch=batch, latent_dim=latent_dim, width=width)
    rule = lambda hp: updates.rule(method, updates.timescaled(OPTIMIZERS[optimizer](hp["lr"]), hp["tau"]))
    result = sweep(game, rule, hparams, keys, steps=steps, record_every=record_every,
                   metrics=coverage_metrics(generator, mixture_kernel(mixture), latent_dim))
    eval_keys = jax.vmap(lambda k: jax.random.fold_in(k, 1))(keys)
    sample = lambda p, k: generator.apply(p, jax.random.normal(k, (TEST_SAMPLES, latent_dim)))
    fake = jax.jit(jax.vmap(jax.vmap(sample), in_axes=(0, None)))(result.eval_params.min, eval_keys)
    return result.trajectory, result.diverged, fake


def final_evaluation(samples, held_out, key, kernel) -> dict:
    """Per seed, generated ``samples`` (S, n, 2) against ``held_out`` target samples (n, 2):
    exact W₂² (optimal assignment), and the p-values of the MMD permutation test (2-D, with
    ``kernel``) and of the KS (exact, host-side) and Welch t tests on the first coordinate."""
    out = {k: np.asarray(v) for k, v in _jitted_evaluation(samples, held_out, key, kernel).items()}
    out["ks_p"] = np.asarray([float(ks_test(x[:, 0], held_out[:, 0]).p_value) for x in np.asarray(samples)])
    return out


@partial(jax.jit, static_argnames="kernel")
def _jitted_evaluation(samples, held_out, key, kernel):
    from minimax.ot import w2_squared  # ott-jax only when this runs

    def one(x, k):
        return {"w2": w2_squared(x, held_out),
                "mmd_p": mmd_permutation_test(x, held_out, k, kernel=kernel, num_permutations=PERMUTATIONS).p_value,
                "welch_p": welch_t_test(x[:, 0], held_out[:, 0]).p_value}
    return jax.vmap(one)(samples, jax.random.split(key, samples.shape[0]))


def _label(method, tau, lr, several_lr):
    return f"{method} τ={tau:g}" + (f" η={lr:g}" if several_lr else "")


def add_arguments(parser):
    parser.add_argument("--mixture", choices=sorted(MIXTURES), default="ring8", help="target, default ring8")
    parser.add_argument("--distances", nargs="+", default=None,
                        help=f"among {', '.join(DISTANCES)}, {MMD_OBJECTIVE}; default {' '.join(DEFAULT_DISTANCES)} "
                             f"(--quick: {' '.join(QUICK['distances'])})")
    parser.add_argument("--methods", nargs="+", default=None,
                        help=f"update rules among {', '.join(updates.RULES)}; default gda eg (--quick: eg)")
    parser.add_argument("--tau", type=float, nargs="+", default=[1.0], help="timescale(s) τ, default 1")
    parser.add_argument("--lr", type=float, nargs="+", default=[2e-3], help="step size(s) η, default 2e-3")
    parser.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="adam",
                        help="inner optimizer, default adam (β₁ = 0.5; eg is then Extra-Adam)")
    parser.add_argument("--seeds", type=int, default=None, help=f"seeds, default {DEFAULTS['seeds']}")
    parser.add_argument("--steps", type=int, default=None, help=f"steps, default {DEFAULTS['steps']}")
    parser.add_argument("--width", type=int, default=None,
                        help=f"hidden width of both MLPs, default {DEFAULTS['width']}")
    parser.add_argument("--batch", type=int, default=None,
                        help=f"batch size (data and latents), default {DEFAULTS['batch']}")
    parser.add_argument("--latent-dim", type=int, default=8, help="latent dimension, default 8")
    parser.add_argument("--seed", type=int, default=0, help="base PRNG seed, default 0")
    parser.add_argument("--quick", action="store_true",
                        help=f"small run for CI: distances {' '.join(QUICK['distances'])}, method eg, "
                             f"{QUICK['seeds']} seeds, {QUICK['steps']} steps, width {QUICK['width']}, "
                             f"batch {QUICK['batch']}")
    add_run_arguments(parser, checkpoint_every=5)


def validate(args):
    fill_defaults(args, DEFAULTS, QUICK)
    validate_run_arguments(args)
    require_positive_ints(args, "seeds", "steps", "width", "batch", "latent_dim")
    require_positive_floats(args, "lr", "tau")
    require_known("distance", args.distances, list(DISTANCES) + [MMD_OBJECTIVE])
    require_known("method", args.methods, updates.RULES)


def main(args) -> int:
    validate(args)
    start = time.perf_counter()
    mixture = MIXTURES[args.mixture]()
    kernel = mixture_kernel(mixture)
    k_seeds, k_held_out, k_tests = jax.random.split(jax.random.PRNGKey(args.seed), 3)
    keys = jax.random.split(k_seeds, args.seeds)
    k_held_out, k_reference, k_reference_test = jax.random.split(k_held_out, 3)
    held_out = mixture.sample(k_held_out, TEST_SAMPLES)
    # the same evaluation for `seeds` fresh target samples (one compilation with the runs' shapes)
    reference = final_evaluation(mixture.sample(k_reference, args.seeds * TEST_SAMPLES).reshape(args.seeds, -1, 2),
                                 held_out, k_reference_test, kernel)
    reference = {"w2_mean": float(reference["w2"].mean()),
                 **{f"{k}_median": float(np.median(reference[k])) for k in ("mmd_p", "ks_p", "welch_p")}}
    record_every = math.gcd(args.steps, max(1, args.steps // RECORDS))
    record_steps = np.arange(0, args.steps + 1, record_every)
    hparams = train.hyperparameter_grid(lr=args.lr, tau=args.tau)
    rows, panels, curves = [], [], {}
    configs = [(d, m) for d in args.distances for m in args.methods]
    for i, (distance, method) in enumerate(configs, 1):
        trajectory, diverged, samples = run_configuration(
            distance, method, hparams, keys, mixture=mixture, optimizer=args.optimizer, steps=args.steps,
            record_every=record_every, width=args.width, batch=args.batch, latent_dim=args.latent_dim,
            sweep=partial(run_sweep, args, "mixture", f"{distance}_{method}"))
        covered, quality, dist = (np.asarray(trajectory[k]) for k in ("modes_covered", "high_quality", "mmd2"))
        diverged = np.asarray(diverged)
        for h, (lr, tau) in enumerate(zip(np.asarray(hparams["lr"]).tolist(), np.asarray(hparams["tau"]).tolist())):
            final = final_evaluation(samples[h], held_out, jax.random.fold_in(k_tests, len(rows)), kernel)
            rows.append({
                "distance": distance, "method": method, "optimizer": args.optimizer, "tau": tau, "lr": lr,
                "seeds": args.seeds, "steps": args.steps,
                "modes_covered_mean": float(covered[h, :, -1].mean()),
                "modes_covered_min": int(covered[h, :, -1].min()),
                "modes_covered_max": int(covered[h, :, -1].max()),
                "high_quality_mean": float(quality[h, :, -1].mean()),
                "mmd2_mean": float(dist[h, :, -1].mean()),
                "w2_mean": float(final["w2"].mean()),
                "mmd_test_p_median": float(np.median(final["mmd_p"])),
                "mmd_test_rejected": int(np.sum(final["mmd_p"] <= TEST_LEVEL)),
                "ks_p_median": float(np.median(final["ks_p"])), "welch_p_median": float(np.median(final["welch_p"])),
                "diverged": int(diverged[h].sum()), "diverged_seeds": np.flatnonzero(diverged[h]).tolist(),
                "modes_covered_trajectory_mean": covered[h].mean(0),
                "high_quality_trajectory_mean": quality[h].mean(0),
                "mmd2_trajectory_mean": dist[h].mean(0),
            })
            label = _label(method, tau, lr, len(args.lr) > 1)
            panels.append((f"{distance} {label}", np.asarray(samples[h, 0])))
            curves.setdefault(distance, {})[label] = covered[h]
        print(f"[{i}/{len(configs)}] {distance:>13} {method:<8} {time.perf_counter() - start:7.1f}s", file=sys.stderr)

    config = {"mixture": args.mixture, "modes": int(mixture.centers.shape[0]), "sigma": float(mixture.sigma),
              "seeds": args.seeds, "steps": args.steps, "lr": args.lr, "tau": args.tau, "optimizer": args.optimizer,
              "distances": args.distances, "methods": args.methods, "width": args.width, "batch": args.batch,
              "latent_dim": args.latent_dim, "seed": args.seed, "record_every": record_every,
              "record_steps": record_steps, "quick": args.quick, "eval_samples": EVAL_SAMPLES,
              "mode_rule": f"a mode is covered by >= ceil({MODE_COUNT_FRACTION}*n/K) samples within 3 sigma",
              "mmd_kernel_bandwidths": kernel_bandwidths(mixture).tolist(),
              "test_samples": TEST_SAMPLES, "permutations": PERMUTATIONS, "test_level": TEST_LEVEL,
              "target_vs_target": reference,
              "tests": "MMD permutation test (2-D); KS exact and Welch t on the first coordinate; "
                       "generated vs held-out target samples",
              "generator": f"MLP {args.latent_dim}-{args.width}-{args.width}-2, ReLU",
              "critic": f"MLP 2-{args.width}-{args.width}-1, LeakyReLU(0.2)",
              "inner": f"{args.optimizer}(lr) then two_timescale(tau); the run enforces the critic projection (if any)"}
    paths = write_results(args.out, "mixture", config, rows)
    samples_png = os.path.join(args.out, "mixture_samples.png")
    curve_png = os.path.join(args.out, "mixture_modes.png")
    scatter_panels([("target", np.asarray(held_out))] + panels, markers=np.asarray(mixture.centers),
                   title=f"{args.mixture}: {TEST_SAMPLES} samples of seed 0 after {args.steps} steps", path=samples_png)
    seed_band_panels(record_steps, curves, ylabel="modes covered",
                     title=f"{args.mixture}: modes covered of {mixture.centers.shape[0]} (median, min–max over seeds)",
                     path=curve_png)
    print(format_table(rows, TABLE_COLUMNS))
    print(f"\nwrote {paths['json']}, {paths['csv']}, {samples_png}, {curve_png} ({time.perf_counter() - start:.1f}s)")
    return 0
