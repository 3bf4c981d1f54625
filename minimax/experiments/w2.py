"""W2 regression on 32 MNIST digits: the critic-free reference for the memorization study.

With the 32 training digits x_i and 32 fixed latent codes ẑ_j, any coupling α gives
W₂²(ν̂, (G_θ)#ξ̂) <= Σ_ij α_ij ‖x_i − G_θ(ẑ_j)‖² (Chae, Kim & Kim, ICML HiLD workshop 2025),
and for a fixed α minimizing the right side is plain regression. Couplings:

* ``exact``: the optimal assignment between the data and G_θ₀(ẑ), computed once at
  initialization (the empirical-risk regression), unless ``--recompute-every`` is given;
* ``sinkhorn``: the entropic plan (ε relative to the mean cost) recomputed every
  ``--recompute-every`` steps (default 10), regressing onto barycentric targets. Computed
  only once, at θ₀, where all G_θ₀(ẑ_j) are nearly equal, the plan is nearly uniform and its
  targets are all close to the mean digit, so it is recomputed by default.

Generator: :class:`minimax.models.MLPGenerator`, ẑ ~ N(0, I) in 32 dimensions → Dense(256) →
ReLU → Dense(784), identity output, on pixels in [0, 1]; Adam. A training digit counts as
memorized when its optimally matched generated digit is within 0.1 on every pixel
(:func:`minimax.metrics.memorization`). Seeds (latent codes and initial weights) are vmapped.
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

from minimax import Players, train, updates
from minimax.data import mnist32
from minimax.experiments.common import (UsageError, add_run_arguments, block_length, fill_defaults, require_known,
                                        require_positive_floats, require_positive_ints, run_sweep,
                                        validate_run_arguments)
from minimax.metrics import MEMORIZATION_TOL
from minimax.models import MLPGenerator
from minimax.plots import image_mosaic, seed_bands
from minimax.results import format_table, write_results

COUPLINGS = ("exact", "sinkhorn")
TABLE_COLUMNS = ("coupling", "recompute_every", "steps", "seeds", "w2_bound_final", "w2_exact_final",
                 "memorized_fraction", "memorized_fraction_min", "mean_matched_distance", "seconds")
DEFAULTS = {"steps": 1000, "seeds": 4}
QUICK = {"steps": 300, "seeds": 2}


def add_arguments(parser):
    parser.add_argument("--data", default="mnist32", help="training set; only mnist32 (the first 32 shipped "
                        "MNIST test digits) for now")
    parser.add_argument("--couplings", nargs="+", default=list(COUPLINGS), help="among exact, sinkhorn; default both")
    parser.add_argument("--steps", type=int, default=None, help="optimizer steps, default 1000 (--quick: 300)")
    parser.add_argument("--seeds", type=int, default=None, help="seeds vmapped in one program, default 4 (--quick: 2)")
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam step size, default 1e-3")
    parser.add_argument("--latent-dim", type=int, default=32, help="latent dimension, default 32")
    parser.add_argument("--width", type=int, default=256, help="hidden width of the MLP generator, default 256")
    parser.add_argument("--epsilon", type=float, default=1e-3,
                        help="Sinkhorn ε as a fraction of the mean cost, default 1e-3")
    parser.add_argument("--recompute-every", type=int, default=None,
                        help="recompute the coupling every K steps (0: once at θ₀); default: exact once, sinkhorn 10")
    parser.add_argument("--seed", type=int, default=0, help="base PRNG seed, default 0")
    parser.add_argument("--quick", action="store_true", help=f"small run for CI: {QUICK['steps']} steps, "
                        f"{QUICK['seeds']} seeds unless given")
    add_run_arguments(parser)


def validate(args):
    fill_defaults(args, DEFAULTS, QUICK)
    validate_run_arguments(args)
    if args.data != "mnist32":
        raise UsageError(f"--data must be mnist32, got {args.data!r}")
    require_known("coupling", args.couplings, COUPLINGS)
    require_positive_ints(args, "steps", "seeds", "latent_dim", "width")
    require_positive_floats(args, "lr", "epsilon")
    if args.recompute_every is not None:
        require_positive_ints(args, "recompute_every", minimum=0)


def recompute_period(coupling: str, recompute_every):
    """Steps between recomputations of the coupling (None: once at θ₀)."""
    if recompute_every is None:
        return None if coupling == "exact" else 10
    return recompute_every or None


def run_coupling(coupling: str, data, keys, *, steps, lr, latent_dim, width, epsilon, recompute_every,
                 record_every, sweep=train.sweep):
    """Trains one generator per key on :func:`minimax.ot.w2_game` with Adam.

    Seed s draws its latent codes ẑ from fold_in(keys[s], 7) and its initial weights and run
    from keys[s]; all seeds run in one program (the latent sets are vmapped game leaves).
    Returns (trajectory, memorization, generated, latents), leading axis = seeds.
    """
    from minimax import metrics, ot

    generator = MLPGenerator(data_shape=data.shape[1:], widths=(width,))
    latents = jax.vmap(lambda k: jax.random.normal(jax.random.fold_in(k, 7), (data.shape[0], latent_dim)))(keys)
    init = lambda key: Players(generator.init(key, jnp.zeros((data.shape[0], latent_dim))), ())
    game = ot.w2_game(generator.apply, data, latents[0], coupling=coupling, epsilon=epsilon,
                      recompute_every=recompute_every, sample_init=init)
    per_seed = game.replace(args=(jnp.broadcast_to(data, (keys.shape[0],) + data.shape), latents))
    result = sweep(per_seed, updates.simultaneous(optax.adam(lr)), None, keys, steps=steps, record_every=record_every,
                   metrics=ot.w2_metrics(game), seed_games=True)
    samples = jax.vmap(generator.apply)(result.params.min, latents)
    mem = jax.vmap(metrics.memorization, in_axes=(0, None))(samples, data)
    return result.trajectory, mem, samples, latents


def main(args) -> int:
    validate(args)
    data, labels = mnist32(scale="unit")
    record_every = block_length(args.steps, 100)
    keys = jax.random.split(jax.random.PRNGKey(args.seed), args.seeds)
    rows, panels, curves = [], [], {}
    start = time.perf_counter()
    for i, coupling in enumerate(args.couplings, 1):
        period = recompute_period(coupling, args.recompute_every)
        t0 = time.perf_counter()
        trajectory, mem, samples, _ = run_coupling(
            coupling, data, keys, steps=args.steps, lr=args.lr, latent_dim=args.latent_dim, width=args.width,
            epsilon=args.epsilon, recompute_every=period, record_every=record_every,
            sweep=partial(run_sweep, args, "w2", coupling))
        jax.block_until_ready(mem)
        seconds = time.perf_counter() - t0
        print(f"[{i}/{len(args.couplings)}] {coupling:<8} {seconds:6.1f}s", file=sys.stderr)
        bound = np.asarray(trajectory["w2_bound"])
        rows.append({
            "coupling": coupling, "recompute_every": period, "epsilon": args.epsilon if coupling == "sinkhorn" else None,
            "steps": args.steps, "seeds": args.seeds,
            "w2_bound_final": float(np.mean(bound[:, -1])),
            "w2_exact_final": float(np.mean(trajectory["w2_exact"][:, -1])),
            "memorized_fraction": float(np.mean(mem.fraction)),
            "memorized_fraction_min": float(np.min(mem.fraction)),
            "mean_matched_distance": float(np.mean(mem.mean_distance)),
            "seconds": seconds,
            "record_steps": np.arange(0, args.steps + 1, record_every),
            "w2_bound_trajectory_mean": bound.mean(0),
        })
        label = f"{coupling} ({'once' if period is None else f'every {period}'})"
        panels.append((f"{label}: generated digit matched to each training digit, seed 0",
                       np.asarray(samples[0])[np.asarray(mem.perm[0])]))
        curves[label] = bound

    config = {"data": args.data, "labels": np.asarray(labels), "steps": args.steps, "seeds": args.seeds,
              "seed": args.seed, "lr": args.lr, "optimizer": "adam", "latent_dim": args.latent_dim,
              "generator": f"MLP {args.latent_dim}-{args.width}-784, ReLU, identity output", "pixels": "[0, 1]",
              "epsilon_relative_to_mean_cost": args.epsilon, "memorization_tol": MEMORIZATION_TOL,
              "record_every": record_every}
    paths = write_results(args.out, "w2", config, rows)
    samples_png = os.path.join(args.out, "w2_samples.png")
    bound_png = os.path.join(args.out, "w2_bound.png")
    image_mosaic([("training digits", data)] + panels, image_shape=(28, 28), cols=16, panels_per_row=1,
                 path=samples_png)
    seed_bands(np.arange(0, args.steps + 1, record_every), curves, ylabel="W2² bound  Σ α‖x − G(z)‖²", log=True,
               title="W2 regression on 32 MNIST digits (median, min–max over seeds)", path=bound_png)
    print(format_table(rows, TABLE_COLUMNS))
    print(f"\nwrote {paths['json']}, {paths['csv']}, {samples_png}, {bound_png} "
          f"({time.perf_counter() - start:.1f}s)")
    return 0
