"""Implicit bias of extragradient on the zero-infinity GAN: from zero it finds the minimum-norm generator.

The theory experiment of Lee & Kim (2025) in its exact setting, on 32 MNIST digits (digits
K..K+31 of the shipped subset, ``--digit-offset K``, pixels in [0, 1]):

* generator G_A(z) = A φ(z), φ fixed random Fourier features (N = ``--features``,
  :func:`minimax.games.random_features`) of 32 fixed codes ẑ_j ~ N(0, I₃₂); only A is
  trained, from A = 0;
* the zero-infinity objective in its bilinear paired form, min_A max_B L(A, B) =
  ⟨B, X − AΦ⟩/n (Frobenius, scaled by 1/n), the critic f_B(ẑ_j, x) = ⟨B_j, x⟩ with one free
  column per code (:func:`minimax.games.zero_infinity_last_layer`). Reduction from the
  zero-infinity distance: over this critic class, sup_B E_data f_B − E_gen f_B =
  sup_B ⟨B, X − AΦ⟩/n, which is 0 iff AΦ = X and +∞ otherwise.
* Column j of X is the digit coupled to code ẑ_j by the exact optimal assignment between the
  digits and G_{A=0}(ẑ) (:func:`minimax.ot.assignment`, optax's Hungarian algorithm, the
  coupling of ``minimax w2``). At A = 0 every G(ẑ_j) = 0, so every permutation is optimal (the
  cost ‖x_i − 0‖² does not depend on j) and the minimum-norm target XΦ⁺ depends on which one
  the solver returns. Called once, outside any vmap, it returns the identity, σ(j) = j
  (asserted in the tests, recorded in the JSON); σ is computed once and given to every seed and
  both objectives. (Inside a vmapped program the same tie can be broken differently by rounding:
  a first version let :func:`minimax.ot.w2_game` couple at A = 0 inside the 16-seed sweep and
  its regression converged to another σ's interpolant, min_norm_error ≈ 1.1 with every digit
  memorized.)

Methods (registry names of :data:`minimax.updates.RULES`, SGD(η) then Λ_τ inside): ``eg`` at
τ = 1 and 5 (two-timescale EG), ``gda``, ``ogda``, ``alt_gda``; and ``w2_gd``, plain gradient
descent (``gda`` on a single-player game, max player ``()``) on the W2 regression loss
(1/n)‖AΦ − X‖² from A = 0 (:func:`minimax.games.w2_last_layer`, same σ), whose implicit bias
is the same XΦ⁺.

Step size from the measured spectrum: η = c/max_s |λ|max(∂F_s) over the seeds s, one per
objective (``--step-scale c``, default 0.5; :func:`minimax.diagnostics.top_field_eigenvalues`,
Arnoldi on ∂F with a Krylov space of 2n + 1 = 65 vectors, which is exact here: ∂F = I_d ⊗ J
has at most 2n + 1 distinct eigenvalues). On the zero-infinity game ∂F has eigenvalues
±iσ_k(Φ)/n; on the W2 loss ∂F is the Hessian, with eigenvalues 2σ_k(Φ)²/n. The JSON records
|λ|max measured and in closed form per seed. Defaults: N = 256 features, for which σ_k(Φ)
lies in [0.65, 1.38] over the 16 default seeds (condition number κ ≈ 2); EG's slowest mode,
h = c/(κ√τ), contracts by √(1 − h² + h⁴) ≈ 0.974 per step at τ = 1 and ≈ 0.9945 at τ = 5
(measured), so the default 2000 steps bring both far below the 1e-3 of the convergence test.

Seeds (``--seeds``, default 16) each draw their own codes and features; each seed is its own
game (the stacked games are the vmapped leaves of one sweep, ``seed_games``). Measured per
method and seed: the memorized fraction of the digits (:func:`minimax.metrics.memorization`),
``min_norm_error`` = ‖A_T − XΦ⁺‖_F/‖XΦ⁺‖_F (along training too), ‖B_T‖_F, divergence (the run
flags and freezes a seed whose state became non-finite; the rows count them and name them),
and the spectral radius of each rule's linearized step at the equilibrium, measured by
differentiating the step (:func:`minimax.spectral_radius`) on the game restricted to the
directions that move (:func:`minimax.games.range_features`; the full map adds the eigenvalue 1
on the interpolating set's directions), next to its closed form with h_k = ησ_k(Φ)/(n√τ):
GDA max_k √(1 + h_k²) > 1 (why GDA diverges), EG max_k √(1 − h_k² + h_k⁴) < 1, alternating
GDA 1 (bounded cycling, no convergence), OGDA the largest root modulus of μ² − (1 − 2ih)μ − ih,
W2-GD max_k |1 − 2ησ_k²/n|.

Writes ``implicit_bias.json`` (config, versions, the step sizes and spectra, one row per method
and τ with per-seed values), ``implicit_bias.csv``, ``implicit_bias_min_norm_error.png``
(min_norm_error along training, median and min–max band over seeds) and
``implicit_bias_samples.png`` (G(ẑ) of seed 0 per method next to the digits).

Reference: Lee & Kim, "Zero-Infinity GAN: Stable dynamics and implicit bias of extragradient",
NeurIPS OPT Workshop 2025 (the experiment; see :mod:`minimax.games.last_layer`).
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
import optax

from minimax import train, updates
from minimax.data import load_mnist, load_mnist_subset
from minimax.diagnostics import spectral_radius, top_field_eigenvalues
from minimax.experiments.common import (UsageError, add_run_arguments, block_length, fill_defaults, require_known,
                                        require_positive_floats, require_positive_ints, run_sweep,
                                        validate_run_arguments)
from minimax.games import (last_layer_generator, random_features, range_features, rotation_spectral_radius,
                           w2_last_layer, zero_infinity_last_layer)
from minimax.metrics import MEMORIZATION_TOL, memorization
from minimax.plots import image_mosaic, save_figure, seed_bands
from minimax.results import format_table, write_results

#: objective -> its game constructor (one seed)
OBJECTIVES = {"zero_infinity": zero_infinity_last_layer, "w2": w2_last_layer}
#: method -> (objective, registered rule, τ values)
METHODS = {
    "eg": ("zero_infinity", "eg", (1.0, 5.0)),
    "gda": ("zero_infinity", "gda", (1.0,)),
    "ogda": ("zero_infinity", "ogda", (1.0,)),
    "alt_gda": ("zero_infinity", "alt_gda", (1.0,)),
    "w2_gd": ("w2", "gda", (1.0,)),
}
DIGITS = 32
LATENT_DIM = 32
CONVERGED_TOL = 1e-3
#: Bound on generated pixels before the memorization matching (see :func:`final_memorization`).
SAMPLE_CLIP = 1e3
DEFAULTS = {"steps": 2000, "seeds": 16}
QUICK = {"steps": 300, "seeds": 2}
TABLE_COLUMNS = ("method", "tau", "lr", "seeds", "diverged", "first_diverged_step", "converged", "memorized_fraction",
                 "memorized_fraction_min", "min_norm_error_median", "min_norm_error_max", "critic_norm_max",
                 "spectral_radius", "spectral_radius_closed_form")


def add_arguments(parser):
    parser.add_argument("--features", type=int, default=256, help=f"random features N (>= {DIGITS}), default 256")
    parser.add_argument("--digit-offset", type=int, default=0,
                        help=f"train on shipped MNIST digits K..K+{DIGITS - 1}, default 0")
    parser.add_argument("--step-scale", type=float, default=0.5,
                        help="c in η = c/|λ|max of the field's Jacobian (EG contracts for c < 1), default 0.5")
    parser.add_argument("--methods", nargs="+", default=list(METHODS),
                        help=f"among {', '.join(METHODS)}; default all (eg runs at τ = 1 and 5)")
    parser.add_argument("--steps", type=int, default=None,
                        help=f"steps per run, default {DEFAULTS['steps']} (--quick: {QUICK['steps']})")
    parser.add_argument("--seeds", type=int, default=None,
                        help=f"seeds (codes and features), default {DEFAULTS['seeds']} (--quick: {QUICK['seeds']})")
    parser.add_argument("--seed", type=int, default=0, help="base PRNG seed, default 0")
    parser.add_argument("--quick", action="store_true",
                        help=f"small run for CI: {QUICK['steps']} steps, {QUICK['seeds']} seeds unless given")
    add_run_arguments(parser)


def validate(args):
    fill_defaults(args, DEFAULTS, QUICK)
    validate_run_arguments(args)
    require_positive_ints(args, "steps", "seeds")
    require_positive_floats(args, "step_scale")
    require_known("method", args.methods, METHODS)
    if args.features < DIGITS:
        raise UsageError(f"--features must be >= {DIGITS} (the number of digits), so that the interpolating set "
                         f"{{A : AΦ = X}} is nonempty, got {args.features}")
    shipped = load_mnist()[0].shape[0]
    if not 0 <= args.digit_offset <= shipped - DIGITS:
        raise UsageError(f"--digit-offset must be in [0, {shipped - DIGITS}] (the shipped MNIST subset holds "
                         f"{shipped} digits), got {args.digit_offset}")


def digits(offset: int):
    """Digits offset..offset+31 of the shipped subset, (32, 784) in [0, 1], and their labels."""
    data, labels = load_mnist_subset(offset + DIGITS, scale="unit")
    return data[offset:], labels[offset:]


def seed_features(key, count: int) -> jax.Array:
    """Seed ``key``'s features Φᵀ (32, N): its codes ẑ ~ N(0, I₃₂) and its random Fourier features of them."""
    k_codes, k_features = jax.random.split(jax.random.fold_in(key, 7))
    return random_features(k_features, jax.random.normal(k_codes, (DIGITS, LATENT_DIM)), count)


def _stack(trees):
    return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *trees)


def couple_at_zero(data):
    """σ and X: the exact optimal assignment of the digits to G_{A=0}(ẑ) = 0 (:func:`minimax.ot.assignment`),
    and the digits reordered so that row j is x_σ(j), the digit coupled to code ẑ_j. The same for every seed."""
    from minimax import ot

    perm = ot.assignment(data, jnp.zeros_like(data)).perm  # digit i is coupled to code perm[i]
    return perm, data.at[perm].set(data)


def seed_games(objective: str, targets, features):
    """The games of every seed for ``objective`` (:data:`OBJECTIVES`), stacked (leading axis = seeds);
    ``args = (X, Φᵀ)`` and the minimum-norm interpolant XΦ⁺ as the equilibrium's min player."""
    return _stack([OBJECTIVES[objective](targets, phi) for phi in features])


@partial(jax.jit, static_argnums=1)
def lambda_max(games, krylov_dim: int):
    """|λ|max(∂F) at A = 0 of every seed's game, matrix-free (one seed at a time: the Krylov basis is large)."""
    top = lambda g: top_field_eigenvalues(g.field_fn(), g.sample_init(None), krylov_dim=krylov_dim)[0]
    return jax.lax.map(lambda g: jnp.abs(top(g)), games)


def make_rule(rule: str):
    """``hp -> rule``: the registered rule around SGD(hp["lr"]) then Λ_τ (hp["tau"])."""
    return lambda hp: updates.rule(rule, updates.timescaled(optax.sgd(hp["lr"]), hp["tau"]))


def implicit_bias_metrics(params, key, game, game_state) -> dict:
    """min_norm_error ‖A − XΦ⁺‖_F/‖XΦ⁺‖_F and ‖B‖_F along training (XΦ⁺ is the game's equilibrium)."""
    star = game.equilibrium.min
    return {"min_norm_error": train.tree_norm(params.min - star) / train.tree_norm(star),
            "critic_norm": train.tree_norm(params.max)}


@jax.jit
def final_memorization(weights, features, data):
    """Memorization of ``data`` by G_A(ẑ) for weights (seeds, d, N) and features (seeds, n, N).

    Samples are clipped to ±:data:`SAMPLE_CLIP` first: a diverged seed's overflowing samples would
    break the matching, and a sample within 0.1 of a digit is never clipped."""
    def one(a, phi):
        samples = jnp.clip(jnp.nan_to_num(last_layer_generator(a, phi)), -SAMPLE_CLIP, SAMPLE_CLIP)
        return memorization(samples, data)
    return jax.vmap(one)(weights, features)


def measured_radii(objective: str, rule: str, features, hparams) -> np.ndarray:
    """ρ(∂T) at the equilibrium, (grid, seeds): the dense Jacobian of one step on the game restricted to the
    directions that move (:func:`minimax.games.range_features`: 2n parameters, plus the rule's memory)."""
    rows = jnp.stack([range_features(phi) for phi in features])
    zero = jnp.zeros((rows.shape[1], 1))
    reduced = seed_games(objective, zero, rows)
    make = make_rule(rule)
    radius = lambda g, hp: spectral_radius(make(hp), g.field_fn(), g.sample_init(None))
    over_seeds = jax.vmap(radius, in_axes=(0, None))
    return np.asarray(jax.jit(jax.vmap(over_seeds, in_axes=(None, 0)))(reduced, hparams))


#: :func:`minimax.games.rotation_spectral_radius` compiled once per rule (eagerly it dispatches dozens of ops).
_rotation_radius = jax.jit(rotation_spectral_radius, static_argnums=0)


def closed_form_radius(objective: str, rule: str, sigma, lr: float, tau: float) -> np.ndarray:
    """The spectral radius of the step (module doc) from the singular values ``sigma`` (seeds, n) of Φ:
    the largest over the modes k, for every seed."""
    sigma = np.asarray(sigma, np.float64)
    n = sigma.shape[-1]
    if objective == "w2":
        return np.max(np.abs(1 - 2 * lr * sigma**2 / n), axis=-1)
    h = lr * sigma / (n * math.sqrt(tau))
    if rule == "ogda":  # the roots of μ² − (1 − 2z)μ − z, z = ih (p⁺ = p − 2ηF(p) + ηF(p₋); z = −ih is conjugate)
        z = 1j * h
        root = np.sqrt((1 - 2 * z) ** 2 + 4 * z)
        return np.max(np.maximum(np.abs(1 - 2 * z + root), np.abs(1 - 2 * z - root)) / 2, axis=-1)
    return np.max(np.asarray(_rotation_radius(rule, h, tau=tau)), axis=-1)


def plot_errors(path, steps, curves, title):
    """min_norm_error along training, median and min–max over seeds, on a log scale cut at 10⁴."""
    fig = seed_bands(steps, curves, ylabel="‖A − XΦ⁺‖ / ‖XΦ⁺‖", log=True)
    low = min(float(np.nanmin(np.where(c > 0, c, np.inf))) for c in curves.values())
    fig.axes[0].set_ylim(max(low / 2, 1e-9), 1e4)
    return save_figure(fig, path, title)


def main(args) -> int:
    validate(args)
    start = time.perf_counter()
    data, labels = digits(args.digit_offset)
    n = data.shape[0]
    keys = jax.random.split(jax.random.PRNGKey(args.seed), args.seeds)
    features = jnp.stack([seed_features(k, args.features) for k in keys])
    perm, targets = couple_at_zero(data)
    identity = bool(np.all(np.asarray(perm) == np.arange(n)))
    games = {objective: seed_games(objective, targets, features) for objective in {METHODS[m][0] for m in args.methods}}
    sigma = np.linalg.svd(np.asarray(features, np.float64), compute_uv=False)  # (seeds, n): σ_k(Φ)
    closed_lambda = {"zero_infinity": sigma.max(1) / n, "w2": 2 * sigma.max(1) ** 2 / n}
    steps_info, lrs = {}, {}
    for objective in sorted(games):
        lam = np.asarray(lambda_max(games[objective], 2 * n + 1))
        lrs[objective] = args.step_scale / float(lam.max())
        steps_info[objective] = {"lr": lrs[objective], "lambda_max_measured": lam,
                                 "lambda_max_closed_form": closed_lambda[objective]}

    record_every = block_length(args.steps, 50)
    record_steps = np.arange(0, args.steps + 1, record_every)
    rows, curves, panels = [], {}, []
    for i, method in enumerate(args.methods, 1):
        objective, rule, taus = METHODS[method]
        lr = lrs[objective]
        hparams = train.hyperparameter_grid(lr=[lr], tau=list(taus))
        t0 = time.perf_counter()
        result = run_sweep(args, "implicit_bias", method, games[objective], make_rule(rule), hparams, keys,
                           steps=args.steps, record_every=record_every, metrics=implicit_bias_metrics,
                           seed_games=True)
        radii = measured_radii(objective, rule, features, hparams)
        seconds = time.perf_counter() - t0
        print(f"[{i}/{len(args.methods)}] {method:<8} {seconds:6.1f}s", file=sys.stderr)
        trajectory = result.trajectory
        diverged, diverged_step = np.asarray(result.diverged), np.asarray(result.diverged_step)
        for h, tau in enumerate(taus):
            error = np.asarray(trajectory["min_norm_error"][h])
            memorized = final_memorization(result.params.min[h], features, data)
            fraction = np.asarray(memorized.fraction)
            closed = closed_form_radius(objective, rule, sigma, lr, tau)
            rows.append({
                "method": method, "objective": objective, "rule": rule, "tau": tau, "lr": lr,
                "step_scale": args.step_scale, "seeds": args.seeds, "steps": args.steps,
                "diverged": int(diverged[h].sum()), "diverged_seeds": np.flatnonzero(diverged[h]).tolist(),
                "diverged_step": diverged_step[h],
                "first_diverged_step": int(diverged_step[h][diverged[h]].min()) if diverged[h].any() else None,
                "converged": int(np.sum((error[:, -1] <= CONVERGED_TOL) & ~diverged[h])),
                "memorized_fraction": float(fraction.mean()), "memorized_fraction_min": float(fraction.min()),
                "mean_matched_distance_max": float(np.max(memorized.mean_distance)),
                "min_norm_error_median": float(np.median(error[:, -1])),
                "min_norm_error_max": float(np.max(error[:, -1])),
                "critic_norm_max": None if objective == "w2" else float(np.max(trajectory["critic_norm"][h, :, -1])),
                "spectral_radius": float(radii[h].max()), "spectral_radius_closed_form": float(closed.max()),
                "spectral_radius_per_seed": radii[h], "spectral_radius_closed_form_per_seed": closed,
                "min_norm_error_per_seed": error[:, -1], "memorized_fraction_per_seed": fraction,
                "critic_norm_per_seed": np.asarray(trajectory["critic_norm"][h, :, -1]),
                "min_norm_error_trajectory_median": np.median(error, 0), "seconds": seconds,
            })
            label = method if len(taus) == 1 else f"{method} (τ={tau:g})"
            curves[label] = error
            samples = last_layer_generator(result.params.min[h, 0], features[0])
            panels.append((f"{label}: G(ẑ_j), seed 0", np.nan_to_num(np.asarray(samples))))

    config = {"data": f"shipped MNIST test digits {args.digit_offset}..{args.digit_offset + n - 1}, pixels in [0, 1]",
              "labels": np.asarray(labels), "digit_offset": args.digit_offset, "features": args.features,
              "feature_map": "random Fourier features sqrt(2/N) cos(Wz + b), W ~ N(0, I), b ~ U[0, 2π)",
              "latent_dim": LATENT_DIM, "seeds": args.seeds, "seed": args.seed, "steps": args.steps,
              "step_scale": args.step_scale, "methods": args.methods, "record_every": record_every,
              "record_steps": record_steps, "converged_tol": CONVERGED_TOL, "memorization_tol": MEMORIZATION_TOL,
              "objective": "min_A max_B <B, X - A Phi>/n (zero-infinity, paired linear critic); w2: (1/n)|A Phi - X|^2",
              "init": "A = 0, B = 0", "quick": args.quick}
    summary = {"step_sizes": steps_info, "coupling": np.asarray(perm), "coupling_is_identity": identity,
               "singular_values_min": sigma.min(1), "singular_values_max": sigma.max(1)}
    paths = write_results(args.out, "implicit_bias", config, rows, summary)
    errors_png = os.path.join(args.out, "implicit_bias_min_norm_error.png")
    samples_png = os.path.join(args.out, "implicit_bias_samples.png")
    plot_errors(errors_png, record_steps, curves,
                f"min-norm error from A = 0, N = {args.features} features (median, min–max over {args.seeds} seeds)")
    digits_label = f"digits {args.digit_offset}..{args.digit_offset + n - 1}" + (" = X, σ = identity" * identity)
    image_mosaic([(digits_label, np.asarray(data))] + panels, image_shape=(28, 28), cols=16, panels_per_row=2,
                 title=f"G(ẑ) after {args.steps} steps, in code order", path=samples_png)
    print(format_table(rows, TABLE_COLUMNS))
    for objective, info in steps_info.items():
        gap = np.max(np.abs(info["lambda_max_measured"] / info["lambda_max_closed_form"] - 1))
        print(f"{objective}: η = {info['lr']:.4g}, |λ|max measured vs closed form: max relative gap {gap:.1e}")
    print(f"\nwrote {paths['json']}, {paths['csv']}, {errors_png}, {samples_png} ({time.perf_counter() - start:.1f}s)")
    return 0
