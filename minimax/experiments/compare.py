"""Minimization baselines against the adversarial setting: every family, same data, same metrics, many seeds.

Families (all trained by Adam through :func:`minimax.train.sweep`, seeds vmapped in one program):

* ``gan``: the best adversarial setting of the existing experiments. On the ring, the
  non-saturating GAN with simultaneous GDA and Adam(2e-3, β₁ = 0.5): the critic distance with the
  highest high-quality fraction and mode count in the ``minimax mixture`` table (6.5 of 8 modes,
  66 % high quality at 3 000 steps; JS, hinge and LSGAN behind it, WGAN-GP and zero-infinity
  reaching no mode), GDA ahead of EG there. On MNIST, :data:`MNIST_GAN`: JS with 5 critic steps per
  generator step (see there for why).
* ``w2_regression``: :func:`minimax.ot.w2_game`, regression onto the exact optimal assignment of
  generated and real points (recomputed every step on fresh minibatches; on the 32 digits computed
  once between the fixed latents' images and the digits, the setting of ``minimax w2``).
* ``vae``, ``flow``, ``score_matching``, ``flow_matching``, ``ot_flow_matching``: the baselines of
  :mod:`minimax.baselines` (ELBO with the reparameterization gradient; RealNVP maximum likelihood;
  denoising score matching with the probability-flow ODE; conditional flow matching with
  independent and exact-OT minibatch pairing).

Datasets (:data:`SETTINGS`):

* ``ring8``: the 8-Gaussian ring (σ = 0.02, radius 2); each seed trains on its own 1 024 samples.
  Scored on 512 samples from fresh latents against 512 held-out target samples: modes covered and
  high-quality fraction (:func:`minimax.metrics.mode_coverage`), MMD² (the kernel of ``minimax
  mixture``), exact W₂² (256 vs 256, as there), precision and recall (k = 3). Reference: fresh
  target samples scored the same way.
* ``mnist32``: the memorization view, the 32 digits of ``minimax mnist32`` (full batch) with one
  fixed latent set ẑ per seed (32 codes): ``gan``, ``w2_regression`` and both flow-matching
  families train on ẑ (empirical risk R̃; flow matching with ẑ as its source points), and every
  family is scored on its samples from 32 fixed latents: memorized fraction and mean matched
  distance (:func:`minimax.metrics.memorization`, tolerance 0.1 per pixel), the mean distance of a
  sample to its nearest training digit, and FD, KID, precision/recall and coverage against the 32
  digits in the features of the shipped MNIST classifier (``features="mnist"``).
* ``mnist``: the generalization view, the 1 024 shipped digits split into 768 training and 256
  held-out digits, minibatches of 128, fresh latents. 768 samples are scored against the held-out
  digits (FD, KID, precision/recall, coverage; MNIST features) and against the training digits
  (memorized fraction under the optimal matching of the 768 samples to the 768 digits,
  nearest-training-digit distance). Reference: the training digits themselves as "samples" (a
  perfect memorizer), and in the summary the held-out digits' nearest-training-digit distance
  (how far a novel digit is).

Pixels are in [0, 1]; samples of every family are clipped to [0, 1] before scoring. Networks are
MLPs with two hidden layers of the dataset's width everywhere (generator, critic, encoder and
decoder, coupling conditioners, score and velocity fields): 64 on the ring, 256 on MNIST. Batches of
128 (the 32 digits: full batch), Adam(1e-3) for the baselines and W2 regression, Adam(3e-4) (ring)
or Adam(1e-4) (MNIST) for RealNVP, whose likelihood is unstable at 1e-3; latent dimension 8 (ring)
or 16 (MNIST) for the GAN and W2 regression, 2 or 16 for the VAE (on the ring, 8 latent dimensions
let its posterior collapse onto the prior); RealNVP with 8 (ring) or 4 (MNIST) couplings, the
logit transform and uniform dequantization on pixels; score matching on σ ∈ [0.01, 4] (ring) or
[0.01, 12] (MNIST). The ODE families sample with 64 Heun steps (128 evaluations).

Sampling steps (``flow_matching``, ``ot_flow_matching``, ``score_matching``): samples with
N = 1, 2, ..., 128 Euler steps from the same latents, scored by W₂² (ring) or FD (MNIST), and the
straightness of the 128-step paths (:func:`minimax.baselines.ode.straightness`). ``steps needed``
is the smallest N whose median quality is within 20 % of the worse of the two flow-matching
families' 128-step quality, a level both reach. The VAE's gradient estimators are compared
with :func:`minimax.baselines.vae.gradient_variance` at the initial and the trained parameters of
seed 0 (K = 4 samples, 64 training points).

Outputs: ``compare.json``/``.csv`` (one row per dataset and family, means and per-seed values),
``compare_steps.json``/``.csv`` (the sampling-steps study), ``compare_samples_<dataset>.png``
(sample grids side by side), ``compare_metrics_<dataset>.png`` (bars: seed mean, min–max band,
one dot per seed, the reference dashed) and ``compare_steps_<dataset>.png`` (quality against
Euler steps).
"""
from __future__ import annotations

import dataclasses
import math
import os
import sys
import time
from functools import partial
from typing import Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np
import optax

from minimax import updates
from minimax.baselines import (VAE, FlowMatchingModel, RealNVP, ScoreModel, flow_game, flow_matching_game,
                               gradient_variance, score_matching_game, vae_game)
from minimax.baselines.ode import straightness
from minimax.data import load_mnist_subset, minibatches, mnist32, ring8
from minimax.experiments.common import (OPTIMIZERS, add_run_arguments, block_length, fill_defaults, require_known,
                                        require_positive_ints, run_sweep, validate_run_arguments)
from minimax.experiments.mixture import mixture_kernel
from minimax.games.gan import gan_game, init_players, normal_latent
from minimax.losses.distances import DISTANCES
from minimax.losses.sample_distances import mmd2
from minimax.metrics import (MEMORIZATION_TOL, density_coverage, frechet_distance, kernel_distance, memorization,
                             mode_coverage, precision_recall)
from minimax.models import MLPCritic, MLPGenerator
from minimax.plots import draw_seed_bands, image_mosaic, save_figure, scatter_panels, subplots
from minimax.results import format_table, write_results

FAMILIES = ("gan", "w2_regression", "vae", "flow", "score_matching", "flow_matching", "ot_flow_matching")
ODE_FAMILIES = ("score_matching", "flow_matching", "ot_flow_matching")
DATASETS = ("ring8", "mnist32", "mnist")
#: The adversarial setting on MNIST: (distance, rule, Adam step size). The JS GAN of the reference talk
#: with M = 5 critic steps per generator step (alternating GDA), Adam(2e-4, β₁ = 0.5). Chosen by a small
#: search on the 32 digits with fixed latents (2 seeds, 2 000–3 000 steps, MLPs of width 256): no setting
#: memorized a digit; this one came closest (mean matched distance 8.4–8.8, from 13.8 at initialization),
#: ahead of JS, NS and hinge with simultaneous GDA (9.2–12.3), zero-infinity and JS with extragradient
#: (9.3–12.4) and NS with 5 critic steps (10.2–12.2). ``minimax mnist32`` found the same with SGD.
MNIST_GAN = ("js", "alt_gda5", 2e-4)
STEP_COUNTS = (1, 2, 4, 8, 16, 32, 64, 128)
#: "steps needed": within this factor of the worse flow-matching family's 128-step quality.
STEPS_TOLERANCE = 1.2
RING_EVAL, RING_W2 = 512, 256
MNIST_STUDY = 256
REFERENCE = "reference"

DEFAULTS = {"datasets": list(DATASETS), "seeds": 8}
QUICK = {"datasets": ["ring8"], "seeds": 2, "steps": 400}


@dataclasses.dataclass(frozen=True)
class Setting:
    """What one dataset fixes for every family."""

    name: str
    steps: int            # default optimizer steps
    batch: int            # data points (and latents) per step
    width: int            # hidden width of every MLP (two hidden layers)
    latent_dim: int       # latent dimension of gan and w2_regression
    vae_latent_dim: int   # the VAE's (2 on the ring: with more, its posterior collapses onto the prior)
    fixed_latents: bool   # the memorization view: one fixed latent set per seed
    sigma_max: float      # score matching's largest noise level (about the data's diameter)
    sigma_data: float     # the data's standard deviation per coordinate (score matching's preconditioning)
    image: bool           # MNIST pixels in [0, 1]
    flow_layers: int      # RealNVP coupling layers
    lr: float             # Adam step size of the baselines and W2 regression
    flow_lr: float        # RealNVP's (its likelihood on 784 pixels is unstable at lr)


SETTINGS = {
    "ring8": Setting("ring8", steps=3000, batch=128, width=64, latent_dim=8, vae_latent_dim=2, fixed_latents=False,
                     sigma_max=4.0, sigma_data=1.4, image=False, flow_layers=8, lr=1e-3, flow_lr=3e-4),
    "mnist32": Setting("mnist32", steps=2000, batch=32, width=256, latent_dim=16, vae_latent_dim=16,
                       fixed_latents=True, sigma_max=12.0, sigma_data=0.3, image=True, flow_layers=4, lr=1e-3,
                       flow_lr=1e-4),
    "mnist": Setting("mnist", steps=3000, batch=128, width=256, latent_dim=16, vae_latent_dim=16,
                     fixed_latents=False, sigma_max=12.0, sigma_data=0.3, image=True, flow_layers=4, lr=1e-3,
                     flow_lr=1e-4),
}


# ----------------------------------------------------------------------------- families

class Family(NamedTuple):
    """How to build one family on one dataset: its game from (data, fixed latents or None), rule and sampler."""

    make_game: Callable   # (data (n, d), latents or None) -> Game
    rule: object          # an update rule
    noise: Callable       # (key, n) -> latents
    sample: Callable      # (params.min, latents) -> samples (n, d), jittable
    model: Optional[object] = None  # the minimax.baselines model (None for gan and w2_regression)
    description: str = ""


def _adam(lr: float):
    return updates.simultaneous(optax.adam(lr))


def _generator(setting: Setting, dim: int) -> MLPGenerator:
    return MLPGenerator(data_shape=(dim,), widths=(setting.width,) * 2,
                        out_activation="sigmoid" if setting.image else None)


def _latent_noise(latent_dim):
    return lambda key, n: jax.random.normal(key, (n, latent_dim))


def _gan(setting: Setting, dim: int) -> Family:
    generator, critic = _generator(setting, dim), MLPCritic(widths=(setting.width,) * 2)
    distance, method, lr = MNIST_GAN if setting.image else ("ns", "gda", 2e-3)

    def make(data, latents):
        latent = latents if latents is not None else normal_latent(setting.batch, setting.latent_dim)
        return gan_game(generator.apply, critic.apply, DISTANCES[distance], minibatches(data, setting.batch), latent,
                        sample_init=partial(init_players, generator, critic, latent=latent))
    return Family(make, updates.rule(method, OPTIMIZERS["adam"](lr)), _latent_noise(setting.latent_dim),
                  generator.apply, description=f"{distance} GAN, {method}, Adam({lr:g}, b1=0.5)")


def _w2(setting: Setting, dim: int) -> Family:
    from minimax import ot

    generator = _generator(setting, dim)
    init = lambda key: init_players(generator, None, key, jnp.zeros((1, setting.latent_dim)))

    def make(data, latents):
        if latents is not None:
            return ot.w2_game(generator.apply, data, latents, coupling="exact", sample_init=init)
        return ot.w2_game(generator.apply, data, normal_latent(setting.batch, setting.latent_dim), coupling="exact",
                          recompute_every=1, sample_init=init)
    once = "coupled once (fixed latents)" if setting.fixed_latents else "recoupled every step"
    return Family(make, _adam(setting.lr), _latent_noise(setting.latent_dim), generator.apply,
                  description=f"exact assignment, {once}, Adam({setting.lr:g})")


def _vae(setting: Setting, dim: int) -> Family:
    model = VAE(dim, setting.vae_latent_dim, (setting.width,) * 2, "bernoulli" if setting.image else "gaussian")
    return Family(lambda data, latents: vae_game(model, data, batch_size=setting.batch), _adam(setting.lr),
                  model.noise, model.sample, model,
                  description=f"{model.likelihood} decoder, reparameterization, Adam({setting.lr:g})")


def _flow(setting: Setting, dim: int) -> Family:
    model = RealNVP(dim, setting.flow_layers, (setting.width,) * 2, logit_alpha=0.05 if setting.image else None,
                    dequantize=256 if setting.image else 0)
    return Family(lambda data, latents: flow_game(model, data, batch_size=setting.batch), _adam(setting.flow_lr),
                  model.noise, model.sample, model,
                  description=f"RealNVP, {setting.flow_layers} couplings, Adam({setting.flow_lr:g})")


def _score(setting: Setting, dim: int, sample_steps: int) -> Family:
    model = ScoreModel(dim, (setting.width,) * 2, sigma_min=0.01, sigma_max=setting.sigma_max,
                       sigma_data=setting.sigma_data)
    return Family(lambda data, latents: score_matching_game(model, data, batch_size=setting.batch), _adam(setting.lr),
                  model.noise, partial(model.sample, steps=sample_steps, method="heun"), model,
                  description=f"DSM σ∈[0.01, {setting.sigma_max:g}], PF-ODE Heun {sample_steps}, Adam({setting.lr:g})")


def _flow_matching(setting: Setting, dim: int, sample_steps: int, coupling: str) -> Family:
    model = FlowMatchingModel(dim, (setting.width,) * 2)

    def make(data, latents):
        return flow_matching_game(model, data, batch_size=setting.batch, coupling=coupling, source=latents)
    return Family(make, _adam(setting.lr), model.noise, partial(model.sample, steps=sample_steps, method="heun"),
                  model, description=f"{coupling} pairing, Heun {sample_steps}, Adam({setting.lr:g})")


def family(name: str, setting: Setting, dim: int, sample_steps: int) -> Family:
    """The :class:`Family` ``name`` on a dataset with samples of dimension ``dim``."""
    builders = {"gan": lambda: _gan(setting, dim), "w2_regression": lambda: _w2(setting, dim),
                "vae": lambda: _vae(setting, dim), "flow": lambda: _flow(setting, dim),
                "score_matching": lambda: _score(setting, dim, sample_steps),
                "flow_matching": lambda: _flow_matching(setting, dim, sample_steps, "independent"),
                "ot_flow_matching": lambda: _flow_matching(setting, dim, sample_steps, "exact")}
    return builders[name]()


def per_seed_game(make_game: Callable, data, latents):
    """One game whose leaves carry a leading seed axis: built per seed, the seeds' ``args`` stacked."""
    games = [make_game(data[s], None if latents is None else latents[s]) for s in range(data.shape[0])]
    return games[0].replace(args=jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *[g.args for g in games]))


# ----------------------------------------------------------------------------- data and scores

class Dataset(NamedTuple):
    train: jax.Array      # (S, n, d): each seed's training set
    reference: jax.Array  # ring: held-out target samples; mnist32: the digits; mnist: the held-out digits
    mixture: object       # the ring's GaussianMixture, or None
    kernel: object        # the ring's MMD kernel (minimax mixture's), or None


@partial(jax.jit, static_argnums=(2, 3))
def _mixture_samples(mixture, keys, draw: int, n: int):
    """n samples of the mixture per seed key (S, n, 2), from fold_in(key, draw)."""
    return jax.vmap(lambda k: mixture.sample(jax.random.fold_in(k, draw), n))(keys)


def load(name: str, keys) -> Dataset:
    """Each seed's training set, the evaluation reference and (ring) the mixture and its MMD kernel."""
    seeds = keys.shape[0]
    if name == "ring8":
        mixture = ring8()
        held_out = _mixture_samples(mixture, jax.random.PRNGKey(10_000)[None], 0, RING_EVAL)[0]
        return Dataset(_mixture_samples(mixture, keys, 1, 1024), held_out, mixture, mixture_kernel(mixture))
    if name == "mnist32":
        digits = mnist32()[0]
        return Dataset(jnp.broadcast_to(digits, (seeds,) + digits.shape), digits, None, None)
    digits = load_mnist_subset(1024)[0]
    train = digits[:768]
    return Dataset(jnp.broadcast_to(train, (seeds,) + train.shape), digits[768:], None, None)


def _nearest_distance(samples, train):
    """Mean over samples of the Euclidean distance to the nearest training point (found from the expanded
    squared distances, then measured exactly)."""
    sq = jnp.sum(train**2, 1)[None, :] - 2.0 * samples @ train.T
    return jnp.mean(jnp.linalg.norm(samples - train[jnp.argmin(sq, axis=1)], axis=1))


@partial(jax.jit, static_argnames="kernel")
def ring_scores(samples, held_out, mixture, kernel):
    """Per seed, samples (S, 512, 2) against the held-out target (512, 2); ``kernel`` the MMD kernel."""
    def one(x):
        cover = mode_coverage(x, mixture)
        pr = precision_recall(held_out, x, k=3)
        return {"modes_covered": cover.modes_covered, "high_quality": cover.high_quality,
                "mmd2": mmd2(held_out, x, kernel), "precision": pr.precision, "recall": pr.recall}
    return {**jax.vmap(one)(samples), "w2": _ring_w2(samples, held_out)}


def _embed(x):
    from minimax.features import mnist_features
    return mnist_features()(jnp.clip(x, 0.0, 1.0))


@jax.jit
def _feature_scores(fake, real):
    """FD, KID, precision/recall and coverage of embedded samples (n, 64) against embedded real ones."""
    pr = precision_recall(real, fake, k=3)
    return {"fd": frechet_distance(fake, real), "kid": kernel_distance(fake, real), "precision": pr.precision,
            "recall": pr.recall, "coverage": density_coverage(real, fake, k=5).coverage}


@jax.jit
def _memorization_scores(samples, train):
    m = memorization(samples, train)
    return {"memorized_fraction": m.fraction, "mean_matched_distance": m.mean_distance,
            "nn_distance": _nearest_distance(samples, train)}


def mnist_scores(samples, reference, train):
    """Per seed, samples (S, n, 784) clipped to [0, 1]: feature scores against ``reference`` and
    memorization against ``train`` (n digits)."""
    real = _embed(reference)
    out = []
    for x in np.asarray(jnp.clip(samples, 0.0, 1.0)):
        out.append({**_feature_scores(_embed(x), real), **_memorization_scores(jnp.asarray(x), train)})
    return {k: jnp.stack([o[k] for o in out]) for k in out[0]}


def score(dataset: str, data: Dataset, samples):
    if dataset == "ring8":
        return ring_scores(samples, data.reference, data.mixture, kernel=data.kernel)
    return mnist_scores(samples, data.reference, data.train[0])


@jax.jit
def _ring_w2(samples, held_out):
    """Exact W₂² of each seed's first RING_W2 samples against the first RING_W2 held-out points."""
    from minimax import ot
    return jax.vmap(lambda x: ot.w2_squared(x[:RING_W2], held_out[:RING_W2]))(samples)


def _quality_name(dataset: str) -> str:
    return "w2" if dataset == "ring8" else "fd"


def quality(dataset: str, data: Dataset, samples) -> np.ndarray:
    """The sampling-steps study's quality per seed: W₂² on the ring, FD in MNIST features otherwise."""
    if dataset == "ring8":
        return np.asarray(_ring_w2(samples, data.reference))
    real = _embed(data.reference)
    return np.asarray([float(frechet_distance(_embed(x), real)) for x in samples])


def reference_samples(dataset: str, data: Dataset, keys):
    """What a perfect model would give: fresh target samples (ring), the training digits (MNIST)."""
    if dataset == "ring8":
        return _mixture_samples(data.mixture, keys, 4, RING_EVAL)
    return data.train


# ----------------------------------------------------------------------------- the experiment

METRICS = {"ring8": ("modes_covered", "high_quality", "mmd2", "w2", "precision", "recall"),
           "mnist32": ("memorized_fraction", "mean_matched_distance", "nn_distance", "fd", "kid", "precision",
                       "recall", "coverage"),
           "mnist": ("fd", "kid", "precision", "recall", "coverage", "memorized_fraction", "nn_distance")}
TABLE_COLUMNS = ("dataset", "family", "seeds", "steps", "train_seconds")


def add_arguments(parser):
    parser.add_argument("--datasets", nargs="+", default=None,
                        help=f"among {', '.join(DATASETS)}; default all (--quick: {' '.join(QUICK['datasets'])})")
    parser.add_argument("--families", nargs="+", default=list(FAMILIES),
                        help=f"among {', '.join(FAMILIES)}; default all")
    parser.add_argument("--seeds", type=int, default=None,
                        help=f"seeds vmapped per family, default {DEFAULTS['seeds']} (--quick: {QUICK['seeds']})")
    parser.add_argument("--steps", type=int, default=None,
                        help="optimizer steps for every dataset; default ring8 3000, mnist32 2000, mnist 3000 "
                             f"(--quick: {QUICK['steps']})")
    parser.add_argument("--sample-steps", type=int, default=64,
                        help="Heun steps of the ODE samplers in the main table, default 64 (128 evaluations)")
    parser.add_argument("--seed", type=int, default=0, help="base PRNG seed, default 0")
    parser.add_argument("--quick", action="store_true",
                        help=f"small run for CI: {' '.join(QUICK['datasets'])} only, {QUICK['seeds']} seeds, "
                             f"{QUICK['steps']} steps")
    add_run_arguments(parser, checkpoint_every=5)


def validate(args):
    fill_defaults(args, DEFAULTS, QUICK)
    validate_run_arguments(args)
    require_known("dataset", args.datasets, DATASETS)
    require_known("family", args.families, FAMILIES)
    require_positive_ints(args, "seeds", "sample_steps")
    if args.steps is not None:
        require_positive_ints(args, "steps")


def _record_every(steps: int) -> int:
    return block_length(steps, 10)


def train_family(args, name: str, dataset: str, setting: Setting, data: Dataset, keys, steps: int):
    """Trains one family on every seed; returns (family, result, samples (S, n, d), latents, seconds)."""
    fam = family(name, setting, data.train.shape[-1], args.sample_steps)
    n = data.train.shape[1] if setting.fixed_latents or setting.image else RING_EVAL
    latents = jax.vmap(lambda k: fam.noise(jax.random.fold_in(k, 2), n))(keys)
    game = per_seed_game(fam.make_game, data.train, latents if setting.fixed_latents else None)
    t0 = time.perf_counter()
    # --quick skips the sweep's "auto" probe (two more compilations and timed runs per family) for plain vmap
    result = run_sweep(args, "compare", f"{dataset}_{name}", game, fam.rule, None, keys, steps=steps,
                       record_every=_record_every(steps), seed_games=True, strategy="vmap" if args.quick else "auto")
    jax.block_until_ready(result.params)
    seconds = time.perf_counter() - t0
    samples = jax.jit(jax.vmap(fam.sample))(result.eval_params.min, latents)
    return fam, result, samples, latents, seconds


def steps_study(dataset: str, data: Dataset, fam: Family, params, latents):
    """Quality per seed after N Euler steps for N in STEP_COUNTS, and the straightness of the 128-step paths."""
    model, z = fam.model, latents[:, :MNIST_STUDY] if data.mixture is None else latents
    sample = jax.jit(jax.vmap(lambda p, z, n: model.sample(p, z, steps=n, method="euler"), (0, 0, None)))
    out = {n: quality(dataset, data, sample(params, z, n)) for n in STEP_COUNTS}  # one program, N traced
    paths = jax.jit(jax.vmap(lambda p, z: model.sample(p, z, steps=STEP_COUNTS[-1], method="euler",
                                                       trajectory=True)))(params, z)
    s = jax.vmap(straightness)(paths)
    return out, {k: np.asarray(v) for k, v in s._asdict().items()}


def _stats(values) -> dict:
    v = np.asarray(values, np.float64)
    return {"mean": float(np.mean(v)), "min": float(np.min(v)), "max": float(np.max(v)), "seeds": v.tolist()}


def _row(dataset, family_name, description, scores, metrics, seeds, steps, seconds=None, eval_seconds=None):
    row = {"dataset": dataset, "family": family_name, "setting": description, "seeds": seeds, "steps": steps,
           "train_seconds": seconds, "eval_seconds": eval_seconds}
    for m in metrics:
        st = _stats(scores[m])
        row[m] = st["mean"]
        row.update({f"{m}_min": st["min"], f"{m}_max": st["max"], f"{m}_seeds": st["seeds"]})
    return row


def steps_needed(curves: dict) -> tuple:
    """(level, {family: smallest N with median quality <= level}) with level = STEPS_TOLERANCE × the worse
    128-step median of the flow-matching families (lower quality numbers are better)."""
    finals = [np.median(curves[f][STEP_COUNTS[-1]]) for f in ("flow_matching", "ot_flow_matching") if f in curves]
    if not finals:
        return None, {}
    level = STEPS_TOLERANCE * max(finals)
    needed = {f: next((n for n in STEP_COUNTS if np.median(c[n]) <= level), None) for f, c in curves.items()}
    return float(level), needed


def vae_variance(fam_model: VAE, init_params, trained_params, x, key) -> dict:
    """Total variance of both ELBO-gradient estimators (encoder) at initialization and after training."""
    out = {}
    for when, params in (("init", init_params), ("trained", trained_params)):
        moments = gradient_variance(fam_model, params, x, jax.random.fold_in(key, len(out)), draws=500,
                                    num_samples=4)
        r, s = moments["reparameterization"], moments["score_function"]
        out[when] = {"reparameterization_total": float(r.total), "score_function_total": float(s.total),
                     "ratio": float(s.total / r.total)}
    return out


def main(args) -> int:
    validate(args)
    start = time.perf_counter()
    rows, step_rows, summary = [], [], {"steps_needed": {}, "vae_gradient_variance": {}, "heldout_nn_distance": None}
    figures = []
    root = jax.random.PRNGKey(args.seed)
    jobs = [(d, f) for d in args.datasets for f in args.families]
    done = 0
    for d_index, dataset in enumerate(args.datasets):
        setting = SETTINGS[dataset]
        steps = args.steps if args.steps is not None else setting.steps
        keys = jax.random.split(jax.random.fold_in(root, d_index), args.seeds)
        data = load(dataset, keys)
        metrics = METRICS[dataset]
        panels, curves = [], {}
        if dataset != "mnist32":  # there the reference would be the training digits scored against themselves
            rows.append(_row(dataset, REFERENCE, "target samples" if dataset == "ring8" else "the training digits",
                             score(dataset, data, reference_samples(dataset, data, keys)), metrics, args.seeds, 0))
        if dataset == "mnist":
            summary["heldout_nn_distance"] = float(_nearest_distance(data.reference, data.train[0]))
        for name in args.families:
            fam, result, samples, latents, seconds = train_family(args, name, dataset, setting, data, keys, steps)
            t0 = time.perf_counter()
            scores = jax.block_until_ready(score(dataset, data, samples))
            eval_seconds = time.perf_counter() - t0
            rows.append(_row(dataset, name, fam.description, scores, metrics, args.seeds, steps, seconds, eval_seconds))
            rows[-1]["diverged"] = int(np.sum(np.asarray(result.diverged)))
            rows[-1]["loss_trajectory_mean"] = np.asarray(result.trajectory["loss"]).mean(0)
            panels.append((name, np.asarray(samples[0])))
            if name in ODE_FAMILIES:
                curve, straight = steps_study(dataset, data, fam, result.eval_params.min, latents)
                curves[name] = curve
                step_rows += [{"dataset": dataset, "family": name, "sample_steps": n, "quality": _quality_name(dataset),
                               **_stats(curve[n])} for n in STEP_COUNTS]
                rows[-1].update({f"straightness_{k}": float(np.mean(v)) for k, v in straight.items()})
            if name == "vae":  # seed 0 from its initial point (the sweep's k_init) and after training
                init = fam.model.init(jax.random.split(keys[0])[0])
                trained = jax.tree_util.tree_map(lambda x: x[0], result.eval_params.min)
                summary["vae_gradient_variance"][dataset] = vae_variance(fam.model, init, trained,
                                                                         data.train[0][:64],
                                                                         jax.random.fold_in(keys[0], 5))
            done += 1
            print(f"[{done}/{len(jobs)}] {dataset:>8} {name:<17} train {seconds:6.1f}s  eval {eval_seconds:5.1f}s",
                  file=sys.stderr)
        level, needed = steps_needed(curves)
        summary["steps_needed"][dataset] = {"level": level, "quality": _quality_name(dataset), "steps": needed}
        figures += plot_dataset(args.out, dataset, data, panels, [r for r in rows if r["dataset"] == dataset], metrics)
        if curves:
            figures.append(plot_steps(args.out, dataset, curves, level))

    config = {"datasets": args.datasets, "families": args.families, "seeds": args.seeds, "seed": args.seed,
              "steps": {d: args.steps or SETTINGS[d].steps for d in args.datasets}, "quick": args.quick,
              "sample_steps": args.sample_steps,
              "settings": {d: dataclasses.asdict(SETTINGS[d]) for d in args.datasets},
              "step_counts": STEP_COUNTS, "steps_tolerance": STEPS_TOLERANCE, "memorization_tol": MEMORIZATION_TOL,
              "mnist_gan": MNIST_GAN}
    paths = write_results(args.out, "compare", config, rows, summary)
    step_paths = write_results(args.out, "compare_steps", config, step_rows)
    for dataset in args.datasets:
        table = [r for r in rows if r["dataset"] == dataset]
        print(format_table(table, TABLE_COLUMNS + METRICS[dataset]))
        print()
        needed = summary["steps_needed"][dataset]
        if needed["steps"]:
            ode_rows = [dict(r, steps_needed=needed["steps"][r["family"]]) for r in table
                        if r["family"] in needed["steps"]]
            print(f"{dataset}: Euler steps needed to reach {needed['quality']} <= {needed['level']:.4g}, and the "
                  f"straightness of the {STEP_COUNTS[-1]}-step paths")
            print(format_table(ode_rows, ("family", "steps_needed", "straightness_ratio", "straightness_deviation")))
            print()
    for dataset, v in summary["vae_gradient_variance"].items():
        print(f"{dataset}: VAE gradient variance, score function / reparameterization: "
              f"{v['init']['ratio']:.3g} at init, {v['trained']['ratio']:.3g} trained")
    print(f"\nwrote {paths['json']}, {paths['csv']}, {step_paths['json']}, {', '.join(figures)} "
          f"({time.perf_counter() - start:.1f}s)")
    return 0


# ----------------------------------------------------------------------------- figures

def plot_dataset(out: str, dataset: str, data: Dataset, panels, rows, metrics) -> list:
    """The sample grid (seed 0 of every family) and the metric bars of one dataset; returns the paths."""
    samples_png = os.path.join(out, f"compare_samples_{dataset}.png")
    if dataset == "ring8":
        scatter_panels([("target (held out)", np.asarray(data.reference))] + panels, path=samples_png,
                       markers=np.asarray(data.mixture.centers), title=f"{dataset}: samples of seed 0")
    else:
        shown = [(name, np.clip(x[:32], 0.0, 1.0)) for name, x in panels]
        image_mosaic([("training digits", np.asarray(data.train[0][:32]))] + shown, path=samples_png,
                     image_shape=(28, 28), cols=8, panels_per_row=4,
                     title=f"{dataset}: samples of seed 0 (the first 32)")
    bars_png = os.path.join(out, f"compare_metrics_{dataset}.png")
    metric_bars(bars_png, rows, metrics, title=f"{dataset}: mean over seeds, min–max band, one dot per seed")
    return [samples_png, bars_png]


def metric_bars(path: str, rows, metrics, title: str = ""):
    """One subplot per metric: a bar per family (seed mean), its min–max band and seed dots; the reference dashed."""
    models = [r for r in rows if r["family"] != REFERENCE]
    reference = next((r for r in rows if r["family"] == REFERENCE), None)
    cols = min(4, len(metrics))
    n_rows = math.ceil(len(metrics) / cols)
    fig, axes = subplots(n_rows, cols, figsize=(3.3 * cols, 2.9 * n_rows + 0.5), squeeze=False)
    for ax in axes.ravel()[len(metrics):]:
        ax.axis("off")
    x = np.arange(len(models))
    for ax, m in zip(axes.ravel(), metrics):
        means = np.array([r[m] for r in models], np.float64)
        lo = means - np.array([r[f"{m}_min"] for r in models])
        hi = np.array([r[f"{m}_max"] for r in models]) - means
        ax.bar(x, means, color="tab:blue", alpha=0.6)
        ax.errorbar(x, means, yerr=[lo, hi], fmt="none", ecolor="black", capsize=3, lw=1)
        for i, r in enumerate(models):
            seeds = np.asarray(r[f"{m}_seeds"], np.float64)
            ax.scatter(np.full(seeds.shape, i) + np.linspace(-0.2, 0.2, len(seeds)), seeds, s=6, c="black", zorder=3)
        if reference is not None:
            ax.axhline(reference[m], ls="--", c="tab:red", lw=1, label="reference")
            ax.legend(fontsize=7)
        ax.set_xticks(x, [r["family"] for r in models], rotation=60, ha="right", fontsize=7)
        ax.set_title(m, fontsize=9)
    save_figure(fig, path, title)


def plot_steps(out: str, dataset: str, curves: dict, level) -> str:
    """Quality against Euler sampling steps, median and min–max band over seeds, per ODE family."""
    fig, ax = subplots(figsize=(5.6, 3.8))
    steps = np.asarray(STEP_COUNTS)
    draw_seed_bands(ax, steps, {name: np.stack([curve[n] for n in STEP_COUNTS], axis=1)
                                for name, curve in curves.items()})
    if level is not None:
        ax.axhline(level, ls="--", c="gray", lw=1, label=f"level ({STEPS_TOLERANCE:g}× worse 128-step FM)")
    ax.set(xscale="log", yscale="log", xlabel="Euler sampling steps", ylabel={"w2": "W₂²", "fd": "FD"}[_quality_name(dataset)],
           title=f"{dataset}: sample quality vs sampling steps")
    ax.set_xticks(steps, [str(s) for s in STEP_COUNTS])
    ax.legend(fontsize=7)
    path = os.path.join(out, f"compare_steps_{dataset}.png")
    save_figure(fig, path)
    return path
