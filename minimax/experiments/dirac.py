"""The Dirac GAN comparison: distances × update rules × τ, many seeds in one program.

For each distance (Jensen–Shannon, Wasserstein, zero-infinity) and update rule, all
seeds and all (lr, τ) values run in one compiled sweep. Seeds draw different
initial points (uniform in [−1, 1]²); every method sees the same initial points.
A seed has *converged* when ‖p_T − p*‖ < 1e-3 and *diverged* when its parameters
became non-finite. The spectral radius is that of the rule's linearized map at
p* = (0, 0), obtained by differentiating one step (:func:`minimax.spectral_radius`),
next to the closed form where one exists (:func:`minimax.games.rotation_spectral_radius`).
"""
from __future__ import annotations

import math
import os
import sys
import time
from functools import partial
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from minimax import train, updates
from minimax.diagnostics import spectral_radius
from minimax.games.toy import DIRAC_DISTANCES, dirac_gan, rotation_spectral_radius
from minimax.experiments.common import (add_run_arguments, block_length, require_known, require_positive_floats,
                                        require_positive_ints, run_sweep, validate_run_arguments)
from minimax.plots import flow, save_figure, subplots
from minimax.results import format_table, write_results

DISTANCES = tuple(DIRAC_DISTANCES)
DEFAULT_METHODS = ("gda", "alt_gda", "eg", "ogda")
CONVERGED_TOL = 1e-3
PLOT_STEPS = 1500
TABLE_COLUMNS = ("distance", "method", "tau", "lr", "seeds", "converged", "diverged", "final_distance_median",
                 "spectral_radius", "spectral_radius_closed_form")


def _point(params, key, game, game_state):
    return {"theta": params.min, "w": params.max, "distance": jnp.hypot(params.min, params.max)}


def make_rule(method: str) -> Callable:
    """``hp -> rule``: the registered rule around timescaled SGD, Λ_τ after the step (hp: lr, tau)."""
    return lambda hp: updates.rule(method, updates.timescaled(optax.sgd(hp["lr"]), hp["tau"]))


#: Rules with a period: their linearized map is reported per cycle of this many steps.
CYCLES = {"lookahead": 5, "lookahead_eg": 5}
#: Rules without a stationary linearized map at p*, and why (no spectral radius is reported).
NO_STATIONARY_MAP = {
    "eag": "anchored: the map changes with k (β_k = 1/(k+2)); ‖F‖² = O(1/k²) instead",
    "feg": "anchored: the map changes with k (β_k = 1/(k+1)); ‖F‖² = O(1/k²) instead",
    "acgd": "adaptive: its steps depend on its second-moment state, which vanishes at p*",
    "ftr": "undefined: Follow-the-Ridge solves with ∂²_ww L, which is 0 on the Dirac GAN (a bilinear game)",
}
#: ``--methods all``: every registered rule.
ALL = "all"


def contraction_basis(method: str) -> str:
    """What the spectral radius of ``method`` is taken over: a step, a cycle, or why there is none."""
    if method in CYCLES:
        return f"cycle of {CYCLES[method]} steps"
    return NO_STATIONARY_MAP.get(method, "step")


def run_configuration(distance: str, method: str, hparams: dict, keys, *, steps: int, record_every: int,
                      sweep=train.sweep):
    """Runs one (distance, method) over the (lr, τ) grid ``hparams`` and all seeds ``keys``.

    Returns ``(results, radii)``: a :class:`minimax.train.RunResult` with leading axes
    (grid, seeds), and the spectral radius at p* for each grid point (per step, per cycle for
    :data:`CYCLES`, None for :data:`NO_STATIONARY_MAP`). ``sweep`` runs the sweep (the CLI's
    adds checkpoints and progress).
    """
    game, rule = dirac_gan(distance), make_rule(method)
    results = sweep(game, rule, hparams, keys, steps=steps, record_every=record_every, metrics=_point)
    if method in NO_STATIONARY_MAP:
        return results, None
    radius = lambda hp: spectral_radius(rule(hp), game.field_fn(), game.equilibrium, steps=CYCLES.get(method, 1))
    return results, jax.jit(jax.vmap(radius))(hparams)


def trajectory(distance, method, hp, key, steps):
    """(θ_k, w_k) at every step k <= ``steps`` of one run (for plots)."""
    k_init, k_run = jax.random.split(key)
    game = dirac_gan(distance)
    run = jax.jit(lambda g, hp, p: train.run(g, make_rule(method)(hp), p, k_run, steps=steps, record_every=1,
                                             metrics=_point))
    result = run(game, hp, game.sample_init(k_init))
    return np.asarray(result.trajectory["theta"]), np.asarray(result.trajectory["w"])


def _rows(distance, method, hparams, results, radii):
    slope = abs(float(jax.grad(DIRAC_DISTANCES[distance][0])(0.0)))  # |l'(0)|: ∂F(p*) = |l'(0)|·rotation
    final = np.asarray(results.trajectory["distance"][:, :, -1])
    diverged = np.asarray(results.diverged)
    rows = []
    for h, (lr, tau) in enumerate(zip(np.asarray(hparams["lr"]), np.asarray(hparams["tau"]))):
        closed = rotation_spectral_radius(method, lr * slope / math.sqrt(tau), s=slope, tau=tau)
        rows.append({
            "distance": distance, "method": method, "tau": float(tau), "lr": float(lr),
            "seeds": int(final.shape[1]),
            "converged": int(np.sum((final[h] < CONVERGED_TOL) & ~diverged[h])),
            "diverged": int(np.sum(diverged[h])),
            "diverged_seeds": np.flatnonzero(diverged[h]).tolist(),
            "final_distance_median": float(np.median(final[h])),
            "spectral_radius": None if radii is None else float(radii[h]),
            "spectral_radius_closed_form": None if closed is None else float(closed),
            "spectral_radius_per": contraction_basis(method),
        })
    return rows


def plot_trajectories(path, trajectories, methods, distances, title):
    """One panel per distance: the flow −F as streamlines and each method's trajectory of seed 0."""
    fig, axes = subplots(1, len(distances), figsize=(4.6 * len(distances), 4.4), squeeze=False)
    for ax, distance in zip(axes[0], distances):
        game = dirac_gan(distance)
        flow(ax, game.field_fn(), projection=game.projection)
        for i, method in enumerate(methods):
            th, w = trajectories[(distance, method)]
            ax.plot(th, w, lw=1.3, ls=("-", "--", "-.", ":")[i % 4], label=method)
        ax.set_title(distance)
    axes[0][0].legend(loc="lower left", fontsize=8)
    save_figure(fig, path, title)


def add_arguments(parser):
    parser.add_argument("--seeds", type=int, default=64, help="number of seeds (initial points), default 64")
    parser.add_argument("--steps", type=int, default=10_000, help="steps per run, default 10000")
    parser.add_argument("--lr", type=float, nargs="+", default=[0.2], help="step size(s) η, default 0.2")
    parser.add_argument("--tau", type=float, nargs="+", default=[1.0, 5.0], help="timescale(s) τ, default 1 5")
    parser.add_argument("--methods", nargs="+", default=list(DEFAULT_METHODS),
                        help=f"update rules among {', '.join(updates.RULES)}, or 'all'; default "
                             f"{' '.join(DEFAULT_METHODS)}")
    parser.add_argument("--distances", nargs="+", default=list(DISTANCES), help=f"among {', '.join(DISTANCES)}")
    parser.add_argument("--seed", type=int, default=0, help="base PRNG seed, default 0")
    add_run_arguments(parser, checkpoint_every=50)


def validate(args):
    if args.methods == [ALL]:
        args.methods = list(updates.RULES)
    require_positive_ints(args, "seeds", "steps")
    validate_run_arguments(args)
    require_positive_floats(args, "lr", "tau")
    require_known("method", args.methods, updates.RULES)
    require_known("distance", args.distances, DISTANCES)


def main(args) -> int:
    validate(args)
    record_every = block_length(args.steps, 200)
    hparams = train.hyperparameter_grid(lr=args.lr, tau=args.tau)
    keys = jax.random.split(jax.random.PRNGKey(args.seed), args.seeds)
    rows, trajectories = [], {}
    configs = [(d, m) for d in args.distances for m in args.methods]
    start = time.perf_counter()
    for i, (distance, method) in enumerate(configs, 1):
        sweep = partial(run_sweep, args, "dirac", f"{distance}_{method}")
        results, radii = run_configuration(distance, method, hparams, keys, steps=args.steps, record_every=record_every,
                                           sweep=sweep)
        rows += _rows(distance, method, hparams, results, radii)
        first = {"lr": hparams["lr"][0], "tau": hparams["tau"][0]}
        trajectories[(distance, method)] = trajectory(distance, method, first, keys[0], min(args.steps, PLOT_STEPS))
        print(f"[{i}/{len(configs)}] {distance:>13} {method:<8} {time.perf_counter() - start:6.1f}s", file=sys.stderr)

    config = {"seeds": args.seeds, "steps": args.steps, "lr": args.lr, "tau": args.tau, "methods": args.methods,
              "distances": args.distances, "seed": args.seed, "record_every": record_every,
              "converged_tol": CONVERGED_TOL, "init": "uniform in [-1, 1]^2"}
    paths = write_results(args.out, "dirac", config, rows)
    png = os.path.join(args.out, "dirac_trajectories.png")
    plot_trajectories(png, trajectories, args.methods, args.distances,
                      f"Dirac GAN, seed 0, lr={args.lr[0]}, τ={args.tau[0]}, first {min(args.steps, PLOT_STEPS)} steps")
    print(format_table(rows, TABLE_COLUMNS))
    print(f"\nwrote {paths['json']}, {paths['csv']}, {png} ({time.perf_counter() - start:.1f}s)")
    return 0
