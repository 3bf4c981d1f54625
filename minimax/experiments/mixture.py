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
(LeakyReLU 0.2); batch of 128 real and 128 generated samples per step; 3000 generator steps;
16 seeds. Every distance trains under its canonical recipe (:data:`RECIPES`: Adam's β, the
critic steps of alternating GDA, WGAN-GP's penalty weight λ) and under every update rule of
``--methods`` (default ``gda alt_gda eg``) × ``--tau`` (default 1 5): simultaneous GDA,
alternating GDA with the recipe's critic steps (each on a fresh batch), Extra-Adam, and their
two-timescale versions. The inner transformation is Adam(η, β) then Λ_τ = diag(I/τ, I): Λ_τ
comes *after* the optimizer, since Adam divides each coordinate by its own scale (a Λ_τ before
it would cancel); after it, τ divides the generator's step. The published step sizes (2e-4
for the DCGAN recipe, 1e-4 for WGAN-GP) are for 10⁵ generator steps; this budget is 3 000, so
every recipe's η is 1e-3 (``--lr`` overrides). The run enforces the distance's critic
projection. ``mmd`` is the discriminator-free objective MMD²(data, G(z)) with the kernel above
(the critic player is empty; ``alt_gda`` is then plain descent).

References: Metz et al., "Unrolled generative adversarial networks", ICLR 2017 (ring);
Radford, Metz, Chintala, "DCGAN", ICLR 2016 (Adam 2e-4, β₁ = 0.5); Gulrajani et al., "Improved
training of Wasserstein GANs", NeurIPS 2017 (5 critic steps, Adam 1e-4, β = (0.5, 0.9), λ = 10
for images and 0.1 for its toy datasets);
Srivastava et al., "VEEGAN", NeurIPS 2017 (grid); Lin et al., "PacGAN", NeurIPS 2018.
"""
from __future__ import annotations

import dataclasses
import os
import sys
import time
from functools import partial
from typing import Optional

import jax
import numpy as np
import optax

from minimax import train, updates
from minimax.data import grid25, ring8
from minimax.experiments.common import (add_records_argument, add_run_arguments, block_length, fill_defaults,
                                        require_known, require_positive_floats, require_positive_ints, run_sweep,
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
DEFAULT_METHODS = ("gda", "alt_gda", "eg")
DEFAULTS = {"distances": list(DEFAULT_DISTANCES), "methods": list(DEFAULT_METHODS), "tau": [1.0, 5.0], "seeds": 16,
            "steps": 3000, "width": 32, "batch": 128}
QUICK = {"distances": ["js", MMD_OBJECTIVE], "methods": ["eg"], "tau": [1.0], "seeds": 2, "steps": 60, "width": 16,
         "batch": 32}


@dataclasses.dataclass(frozen=True)
class Recipe:
    """A distance's canonical training recipe: Adam(lr, (b1, b2)), critic steps per generator step
    under alternating GDA (each on a fresh batch), and the gradient-penalty weight λ (WGAN-GP)."""

    b1: float
    b2: float
    critic_steps: int
    published_lr: float
    source: str
    gp_weight: Optional[float] = None
    lr: float = 1e-3  # the published lr is for ~10⁵ generator steps; this study runs 3 000


DCGAN = Recipe(b1=0.5, b2=0.999, critic_steps=1, published_lr=2e-4, source="DCGAN (Radford et al. 2016)")
#: distance -> recipe; distances without an entry use the DCGAN recipe.
RECIPES = {
    "wgan_gp": Recipe(b1=0.5, b2=0.9, critic_steps=5, published_lr=1e-4, gp_weight=0.1,
                      source="WGAN-GP toy datasets (Gulrajani et al. 2017; λ = 10 for images)"),
    "wgan_gp_one_sided": Recipe(b1=0.5, b2=0.9, critic_steps=5, published_lr=1e-4, gp_weight=0.1,
                                source="WGAN-GP recipe, one-sided penalty (Petzka et al. 2018)"),
    "wasserstein": Recipe(b1=0.5, b2=0.9, critic_steps=5, published_lr=5e-5,
                          source="WGAN critic steps (Arjovsky et al. 2017 use RMSProp 5e-5)"),
}


def recipe_of(distance: str, *, critic_steps: Optional[int] = None, gp_weight: Optional[float] = None) -> Recipe:
    """The distance's :data:`RECIPES` entry (DCGAN's by default), with ``critic_steps`` and (for a
    gradient-penalty distance) ``gp_weight`` overridden when given."""
    recipe = RECIPES.get(distance, DCGAN)
    if critic_steps is not None:
        recipe = dataclasses.replace(recipe, critic_steps=critic_steps)
    if gp_weight is not None and recipe.gp_weight is not None:
        recipe = dataclasses.replace(recipe, gp_weight=gp_weight)
    return recipe
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


def build_game(distance: str, mixture, *, batch: int, latent_dim: int, width: int, gp_weight: Optional[float] = None):
    """(game, generator, critic or None) for one distance, fresh data and latents each step.

    The mixture is a leaf of the game (its batches come from :meth:`GaussianMixture.batches`).
    ``gp_weight`` is λ of a gradient-penalty distance (``wgan_gp``: the registry's λ = 10 otherwise)."""
    generator = MLPGenerator(data_shape=(2,), widths=(width, width))
    data, latent = mixture.batches(batch), normal_latent(batch, latent_dim)
    critic = None if distance == MMD_OBJECTIVE else MLPCritic(widths=(width, width))
    init = partial(init_players, generator, critic, latent=latent)
    if distance == MMD_OBJECTIVE:
        kernel = mixture_kernel(mixture)
        objective = lambda real, fake, key: mmd2(real, fake, kernel)
        return gan_game(generator.apply, None, objective, data, latent, sample_init=init), generator, None
    chosen = DISTANCES[distance]
    if gp_weight is not None:
        (penalty,) = chosen.regularizers  # the registry's gradient penalty, at its default λ
        chosen = dataclasses.replace(chosen, regularizers=(partial(penalty, weight=gp_weight),))
    return gan_game(generator.apply, critic.apply, chosen, data, latent, sample_init=init), generator, critic


def make_rule(method: str, recipe: Recipe, optimizer: str = "adam"):
    """``hp -> rule``: ``method`` around Adam(hp["lr"], recipe's β) (or SGD) then Λ_τ with τ = hp["tau"].

    ``alt_gda`` takes ``recipe.critic_steps`` critic steps per generator step, each on a fresh batch."""
    def rule(hp):
        step = optax.adam(hp["lr"], b1=recipe.b1, b2=recipe.b2) if optimizer == "adam" else optax.sgd(hp["lr"])
        inner = updates.timescaled(step, hp["tau"])
        if method == "alt_gda":
            return updates.alternating(inner, recipe.critic_steps, resample=True)
        return updates.rule(method, inner)
    return rule


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


def run_configuration(distance, method, hparams, keys, *, mixture, recipe, optimizer, steps, record_every, width,
                      batch, latent_dim, sweep=train.sweep):
    """One (distance, method) under ``recipe`` over the (lr, τ) grid and all seeds in one program.

    Returns (trajectory {modes_covered, high_quality, mmd2}, diverged, final samples
    (TEST_SAMPLES, 2) per run, drawn with a key of their own), with leading axes (grid, seeds).
    """
    game, generator, critic = build_game(distance, mixture, batch=batch, latent_dim=latent_dim, width=width,
                                         gp_weight=recipe.gp_weight)
    result = sweep(game, make_rule(method, recipe, optimizer), hparams, keys, steps=steps, record_every=record_every,
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


def _label(method, recipe, tau, lr, several_lr):
    name = f"alt_gda×{recipe.critic_steps}" if method == "alt_gda" and recipe.critic_steps > 1 else method
    return f"{name} τ={tau:g}" + (f" η={lr:g}" if several_lr else "")


def add_arguments(parser):
    parser.add_argument("--mixture", choices=sorted(MIXTURES), default="ring8", help="target, default ring8")
    parser.add_argument("--distances", nargs="+", default=None,
                        help=f"among {', '.join(DISTANCES)}, {MMD_OBJECTIVE}; default {' '.join(DEFAULT_DISTANCES)} "
                             f"(--quick: {' '.join(QUICK['distances'])})")
    parser.add_argument("--methods", nargs="+", default=None,
                        help=f"update rules among {', '.join(updates.RULES)}; default {' '.join(DEFAULT_METHODS)} "
                             "(--quick: eg); alt_gda takes the recipe's critic steps, each on a fresh batch")
    parser.add_argument("--tau", type=float, nargs="+", default=None, help="timescale(s) τ, default 1 5 (--quick: 1)")
    parser.add_argument("--lr", type=float, nargs="+", default=None,
                        help="step size(s) η, default the recipe's (1e-3 for every distance)")
    parser.add_argument("--critic-steps", type=int, default=None,
                        help="critic steps per generator step of alt_gda, default the recipe's "
                             "(5 for wgan_gp, wgan_gp_one_sided and wasserstein, else 1)")
    parser.add_argument("--gp-weight", type=float, default=None,
                        help="gradient-penalty weight λ of wgan_gp, default 0.1 (WGAN-GP's toy datasets; 10 for images)")
    parser.add_argument("--optimizer", choices=("adam", "sgd"), default="adam",
                        help="inner optimizer, default adam with the recipe's β (eg is then Extra-Adam)")
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
    add_records_argument(parser, RECORDS)
    add_run_arguments(parser, checkpoint_every=5)


def validate(args):
    fill_defaults(args, DEFAULTS, QUICK)
    validate_run_arguments(args)
    require_positive_ints(args, "seeds", "steps", "records", "width", "batch", "latent_dim")
    require_positive_floats(args, "tau")
    if args.lr is not None:
        require_positive_floats(args, "lr")
    if args.critic_steps is not None:
        require_positive_ints(args, "critic_steps")
    if args.gp_weight is not None:
        require_positive_floats(args, "gp_weight")
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
    record_every = block_length(args.steps, args.records)
    record_steps = np.arange(0, args.steps + 1, record_every)
    rows, panels, curves = [], [], {}
    configs = [(d, m) for d in args.distances for m in args.methods]
    recipes = {d: recipe_of(d, critic_steps=args.critic_steps, gp_weight=args.gp_weight) for d in args.distances}
    for i, (distance, method) in enumerate(configs, 1):
        recipe = recipes[distance]
        hparams = train.hyperparameter_grid(lr=args.lr or [recipe.lr], tau=args.tau)
        trajectory, diverged, samples = run_configuration(
            distance, method, hparams, keys, mixture=mixture, recipe=recipe, optimizer=args.optimizer, steps=args.steps,
            record_every=record_every, width=args.width, batch=args.batch, latent_dim=args.latent_dim,
            sweep=partial(run_sweep, args, "mixture", f"{distance}_{method}"))
        covered, quality, dist = (np.asarray(trajectory[k]) for k in ("modes_covered", "high_quality", "mmd2"))
        diverged = np.asarray(diverged)
        for h, (lr, tau) in enumerate(zip(np.asarray(hparams["lr"]).tolist(), np.asarray(hparams["tau"]).tolist())):
            final = final_evaluation(samples[h], held_out, jax.random.fold_in(k_tests, len(rows)), kernel)
            rows.append({
                "distance": distance, "method": method, "optimizer": args.optimizer, "tau": tau, "lr": lr,
                "betas": [recipe.b1, recipe.b2] if args.optimizer == "adam" else None,
                "critic_steps": recipe.critic_steps if method == "alt_gda" else 1, "gp_weight": recipe.gp_weight,
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
            label = _label(method, recipe, tau, lr, len(args.lr or []) > 1)
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
              "inner": f"{args.optimizer}(lr, recipe betas) then two_timescale(tau); alt_gda: the recipe's critic "
                       "steps, each on a fresh batch; the run enforces the critic projection (if any)",
              "recipes": {d: dataclasses.asdict(r) for d, r in recipes.items()}}
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
