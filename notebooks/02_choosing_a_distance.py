# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Choosing a distance: f-divergences, WGAN-GP, LSGAN, MMD and zero-infinity
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/minimax-dev/minimax/blob/main/notebooks/02_choosing_a_distance.ipynb)
#
# A GAN minimizes a statistical distance D(data, model) written as a game: a critic (the max
# player) estimates the distance from samples, the generator (the min player) moves to reduce
# the estimate. minimax makes the distance a swappable record (`losses.Distance`), so this
# notebook
#
# 1. checks the variational principle behind the f-GAN family against closed forms: a trained
#    critic's bound E_P[T] − E_Q[f*(T)] approaches D_f(P‖Q) from below, and the optimal
#    discriminator of the original GAN is D* = p/(p + q);
# 2. trains the same generator on a ring of 8 Gaussians with ten distances (five f-GANs, the
#    non-saturating GAN, WGAN-GP, LSGAN, zero-infinity and the discriminator-free MMD) over
#    several seeds, and compares mode coverage with seed bands. All of it runs in **one**
#    compiled program: the critic distance is an index into a table (`lax.switch`).
#
# **Runtime.** At QUICK size (the default on a CPU; `MINIMAX_QUICK=1` forces it) it runs in 21–27
# s (three runs) on a loaded 2-core CPU, mostly compilation. Full size (`QUICK = False`, the
# default on a GPU or TPU; `MINIMAX_QUICK=0` forces it) trains 8 seeds instead of 4 for 5000 steps
# instead of 1000, with width 64 and batch 128 instead of 32 and 64: 2.5 min on the same CPU (JAX
# 0.10.2). Not measured on an accelerator.

# %%
# On Colab: install minimax (PyPI, else GitHub), keeping Colab's own build of jax.
import sys
if "google.colab" in sys.modules:
    import importlib.metadata as metadata, importlib.util, re, subprocess
    pip = lambda *args: subprocess.run([sys.executable, "-m", "pip", "install", "-q", *args]).returncode == 0
    flags = ["--no-deps"] if importlib.util.find_spec("jax") else []
    if not (pip(*flags, "jax-minimax") or pip(*flags, "git+https://github.com/minimax-dev/minimax.git")):
        raise RuntimeError("could not install minimax")
    if flags:  # minimax's other dependencies, with jax and jaxlib held at Colab's versions
        importlib.invalidate_caches()
        deps = [r for r in metadata.requires("jax-minimax")
                if "extra ==" not in r and re.match(r"[\w.-]+", r)[0] not in ("jax", "jaxlib")]
        if not pip(*deps, *(f"{name}=={metadata.version(name)}" for name in ("jax", "jaxlib"))):
            raise RuntimeError("could not install minimax's dependencies next to Colab's jax")

import minimax

QUICK = minimax.notebook_setup()

# %% [markdown]
# ## 1. The variational bound of an f-divergence
#
# For a convex f with f(1) = 0, D_f(P‖Q) = E_Q[f(p/q)], and by Fenchel duality
#
# $$D_f(P\|Q) = \sup_T\; \mathbb E_P[T(x)] - \mathbb E_Q[f^*(T(x))], \qquad f^*(t) = \sup_u\, tu - f(u),$$
#
# attained at T*(x) = f′(p(x)/q(x)). A critic with raw output v is mapped into the domain of
# f* by an activation, T = g_f(v); every critic then gives a **lower bound**, which the f-GAN
# critic maximizes. `losses.FDIVERGENCES` holds the table (f, f*, g_f, f′(1)) and
# `losses.references` the closed forms. On a finite set of atoms the expectations are exact
# sums and a *tabular* critic (one v per atom) can reach the supremum, so the trained bound must
# match the closed form.

# %%
import math
from functools import partial

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax
from jax import lax

from minimax import metrics, plots, train, updates
from minimax.data import ring8
from minimax.games import gan_game, init_players, normal_latent
from minimax.losses import DISTANCES, FDIVERGENCES, Distance, gaussian_kernel, mmd2, references as ref
from minimax.models import MLPCritic, MLPGenerator

atoms = np.arange(12)
P = np.exp(-0.5 * ((atoms - 4.0) / 1.5) ** 2) + 0.01  # data
Q = np.exp(-0.5 * ((atoms - 7.0) / 2.5) ** 2) + 0.01  # model
P, Q = jnp.asarray(P / P.sum(), jnp.float32), jnp.asarray(Q / Q.sum(), jnp.float32)

CLOSED_FORM = {  # D_f(P‖Q) in closed form, for every entry of the f-GAN table
    "tv": ref.total_variation, "kl": ref.kl, "reverse_kl": lambda p, q: ref.kl(q, p),
    "pearson": ref.pearson_chi2, "neyman": ref.neyman_chi2, "hellinger": ref.squared_hellinger,
    "jeffrey": ref.jeffrey, "js": ref.jensen_shannon, "weighted_js": partial(ref.jensen_shannon, pi=0.25),
    "gan": lambda p, q: 2 * ref.jensen_shannon(p, q) - math.log(4.0),
    "alpha": partial(ref.alpha_divergence, alpha=1.5),
}
assert set(CLOSED_FORM) == set(FDIVERGENCES)


def bound(fdiv, v):  # E_P[g_f(v)] − E_Q[f*(g_f(v))], exact on the atoms
    return P @ fdiv.activation(v) - Q @ fdiv.conjugate_activation(v)


def bound_at_optimum(fdiv):  # T* = f′(p/q), evaluated with f* itself
    t = jax.vmap(jax.grad(fdiv.f))(P / Q)
    return P @ t - Q @ fdiv.conjugate(t)


@jax.jit
def train_critics(steps=2000):
    # Adam ascent on the bound of every divergence from v = 0; the bound every 10 steps.
    out = {}
    for name, fdiv in FDIVERGENCES.items():
        opt = optax.adam(0.1)

        def step(carry, _, fdiv=fdiv, opt=opt):
            v, state = carry
            value, grad = jax.value_and_grad(lambda v: -bound(fdiv, v))(v)
            u, state = opt.update(grad, state)
            return (optax.apply_updates(v, u), state), -value

        v0 = jnp.zeros_like(P)
        (v, _), curve = lax.scan(step, (v0, opt.init(v0)), length=steps)
        out[name] = {"v": v, "curve": curve[::10], "final": bound(fdiv, v), "optimum": bound_at_optimum(fdiv),
                     "closed": CLOSED_FORM[name](P, Q)}
    return out


critics = jax.device_get(train_critics())
print(f"{'f-divergence':>12} {'closed form':>12} {'bound at T*':>12} {'trained bound':>14}")
for name, r in critics.items():
    print(f"{name:>12} {r['closed']:12.5f} {r['optimum']:12.5f} {r['final']:14.5f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 4), layout="constrained")
axes[0].bar(atoms - 0.2, P, 0.4, label="P (data)")
axes[0].bar(atoms + 0.2, Q, 0.4, label="Q (model)")
axes[0].set(title="two distributions on 12 atoms", xlabel="atom")
axes[0].legend()
for name, r in critics.items():
    gap = r["closed"] - r["curve"]  # >= 0: every critic gives a lower bound
    axes[1].plot(np.arange(len(r["curve"])) * 10, np.maximum(gap / abs(r["closed"]), 1e-7), label=name, lw=1.2)
axes[1].set(yscale="log", ylim=(1e-7, 2), xlabel="Adam step", ylabel="(D_f − bound) / |D_f|",
            title="the critic's bound closes the gap to D_f(P‖Q) from below")
axes[1].legend(fontsize=7, ncol=2)
plt.show()

# %% [markdown]
# ### The optimal discriminator
#
# The table's `gan` row is the original GAN: g_f(v) = log σ(v), so T = log D with D = σ(v), and
# the bound is V(G, D) = E_P[log D] + E_Q[log(1 − D)]. Its maximizer is D*(x) = p(x)/(p(x) + q(x))
# (Goodfellow et al. 2014, Prop. 1), where V = 2·JSD(P, Q) − log 4.

# %%
D_trained = jax.nn.sigmoid(critics["gan"]["v"])
D_star = ref.optimal_discriminator(P, Q)
print("V(G, D*)        =", float(ref.gan_value(P, Q, D_star)))
print("2 JSD − log 4   =", float(2 * ref.jensen_shannon(P, Q) - math.log(4.0)))
print("V(G, D_trained) =", float(ref.gan_value(P, Q, D_trained)))
print("max |D_trained − D*| on atoms with mass:", float(jnp.max(jnp.abs(D_trained - D_star)[(P + Q) > 1e-3])))

fig, ax = plt.subplots(figsize=(6.5, 3.2), layout="constrained")
ax.plot(atoms, D_star, "k-", label="D* = p/(p+q)")
ax.plot(atoms, D_trained, "o", label="trained σ(v)")
ax.set(xlabel="atom", ylabel="D(x)", title="the original GAN's optimal discriminator")
ax.legend()
plt.show()

# %% [markdown]
# ## 2. Ten distances on a ring of 8 Gaussians
#
# Data: 8 Gaussians on a circle of radius 2 (`data.ring8`, Metz et al. 2017), here of standard
# deviation σ = 0.1 (the `minimax mixture` experiment uses the harder σ = 0.02). Population
# risk: every step draws a fresh data batch and fresh latent codes. Models: an MLP generator
# z ∈ ℝ⁴ → ℝ² and an MLP critic (`models.MLPGenerator`, `models.MLPCritic`).
#
# | distance | critic minimizes | generator minimizes |
# |---|---|---|
# | f-GAN (KL, reverse KL, JS, Pearson χ², Hellinger) | −(E_data g_f(v) − E_model f*(g_f(v))) | E_data g_f(v) − E_model f*(g_f(v)) |
# | non-saturating (`ns`) | E softplus(−v(x)) + E softplus(v(G(z))) | E softplus(−v(G(z))) |
# | WGAN-GP | E v(G(z)) − E v(x) + 10·E(‖∇v(x̂)‖ − 1)² | −E v(G(z)) |
# | LSGAN | ½E(v(x) − 1)² + ½E v(G(z))² | ½E(v(G(z)) − 1)² |
# | zero-infinity | E v(G(z)) − E v(x), no constraint at all | −E v(G(z)) |
# | MMD² (no critic) | — | MMD²_k(data, G(z)), Gaussian kernels |
#
# **One program for all distances.** A `Distance` is data: `switch_distance(i, table)` below
# is again a `Distance`, whose losses are `lax.switch(i, [...])` over the table. `lax.map`
# over i runs the critic distances one after the other inside one compiled program (under
# `lax.map` the index is not batched, so `switch` executes only the selected branch; a vmapped
# index would evaluate all of them, and a NaN in one branch's gradient would leak into the
# others). MMD² has no critic, so its game (whose critic player is `()`) runs beside them in
# the same `jax.jit`, and `vmap` runs the seeds.
#
# Every distance uses the same solver, simultaneous GDA with Adam (β₁ = 0.5); the solver's part
# is the subject of notebooks 01, 03 and 04. Mode coverage (`metrics.mode_coverage`): a
# generated sample is high-quality when within 3σ of a center, and a mode is covered when it
# holds at least ⌈0.2·n/8⌉ of n = 512 samples drawn from fixed latent codes.

# %%
CRITIC_DISTANCES = ("fgan_kl", "fgan_reverse_kl", "fgan_js", "fgan_pearson", "fgan_hellinger",
                    "ns", "wgan_gp", "lsgan", "zero_infinity")
mixture = ring8(sigma=0.1)
SEEDS = 4 if QUICK else 8
STEPS = 1000 if QUICK else 5000
RECORD = STEPS // 10
WIDTH = 32 if QUICK else 64
BATCH = 64 if QUICK else 128
LR = 2e-3
LATENT, N_EVAL = 4, 512

generator = MLPGenerator(data_shape=(2,), widths=(WIDTH, WIDTH))
critic = MLPCritic(widths=(WIDTH, WIDTH))
latent = normal_latent(BATCH, LATENT)        # fresh codes every step
data = mixture.batches(BATCH)                # fresh data every step
z_eval = jax.random.normal(jax.random.PRNGKey(123), (N_EVAL, LATENT))
rule = updates.simultaneous(optax.adam(LR, b1=0.5))
print(f"{len(CRITIC_DISTANCES) + 1} distances × {SEEDS} seeds × {STEPS} steps, width {WIDTH}, batch {BATCH}")


def switch_distance(index, table):
    # A Distance whose losses (and regularizers) are those of table[index].
    def pick(attr):
        branches = [getattr(d, attr) for d in table]
        return lambda real, fake: lax.switch(index, branches, real, fake)

    def regularization(critic_apply, critic_params, real, fake, key):
        branches = [partial(d.regularization, critic_apply) for d in table]
        return lax.switch(index, branches, critic_params, real, fake, key)

    return Distance("switch", pick("critic_loss"), pick("generator_loss"), zero_sum=False,
                    regularizers=(regularization,))


def coverage(params, key, game, game_state):
    cover = metrics.mode_coverage(generator.apply(params.min, z_eval), mixture)
    return {"modes": cover.modes_covered, "quality": cover.high_quality}


def seeds_of(game, critic_module, keys):
    # Every seed's run of `game`: (trajectory, diverged, final samples), leading axis = seeds.
    def one(key):
        k_init, k_run = jax.random.split(key)
        result = train.run(game, rule, init_players(generator, critic_module, k_init, latent), k_run,
                           steps=STEPS, record_every=RECORD, metrics=coverage)
        return result.trajectory, result.diverged, generator.apply(result.params.min, z_eval)
    return jax.vmap(one)(keys)


kernel = gaussian_kernel(mixture.sigma * 2.0 ** np.arange(6))  # from the mode width to the ring's size
mmd_game = gan_game(generator.apply, None, lambda real, fake, key: mmd2(real, fake, kernel), data, latent)


@jax.jit
def run_all(keys):
    table = [DISTANCES[name] for name in CRITIC_DISTANCES]
    critic_game = lambda i: gan_game(generator.apply, critic.apply, switch_distance(i, table), data, latent)
    critic_runs = lax.map(lambda i: seeds_of(critic_game(i), critic, keys), jnp.arange(len(table)))
    return critic_runs, seeds_of(mmd_game, None, keys)


critic_runs, mmd_run = jax.device_get(run_all(jax.random.split(jax.random.PRNGKey(0), SEEDS)))
results = {name: jax.tree_util.tree_map(lambda x: x[i], critic_runs) for i, name in enumerate(CRITIC_DISTANCES)}
results["mmd"] = mmd_run  # name -> (trajectory, diverged, samples), leading axis = seeds

# %%
record_steps = np.arange(0, STEPS + 1, RECORD)
print(f"{'distance':>16} {'modes covered: median (min–max)':>32} {'high-quality':>13} {'diverged':>9}")
for name, (trajectory, diverged, _) in results.items():
    modes = trajectory["modes"][:, -1]
    quality = np.median(trajectory["quality"][:, -1])
    print(f"{name:>16} {np.median(modes):>20.1f} ({modes.min()}–{modes.max()}) {quality:>15.2f}",
          f"{diverged.sum():>6}/{SEEDS}")

plots.seed_band_panels(record_steps, {name: {f"GDA, Adam η = {LR:g}": r[0]["modes"]} for name, r in results.items()},
                       ylabel="modes covered (of 8)", panels_per_row=5,
                       title=f"modes covered along training: median and min–max over {SEEDS} seeds")

# %%
plots.scatter_panels([(name, r[2][0]) for name, r in results.items()], markers=np.asarray(mixture.centers),
                     background=np.asarray(mixture.sample(jax.random.PRNGKey(7), N_EVAL)), limit=3, panels_per_row=5,
                     title="final samples of seed 0 (blue) over data (grey); red crosses: the modes")

# %% [markdown]
# ## Takeaways
#
# * The variational bound is a lower bound for every critic and is tight at T* = f′(p/q): with a
#   critic rich enough to represent T*, maximizing it recovers the closed-form divergence. This
#   is what the f-GAN critic does with samples and a network instead of exact sums.
# * On the ring the same generator, solver and budget give very different coverage depending on
#   the distance alone. Read the seed bands, not a single run: the spread between seeds is often
#   as large as the differences between distances. At QUICK size (4 seeds, 1000 steps) MMD, the
#   reverse-KL, JS and Hellinger f-GAN critics, the non-saturating GAN and LSGAN reach 4–7 modes
#   (median), with seeds anywhere between 0 and 8, while KL, Pearson, WGAN-GP and zero-infinity
#   stay near none. In our full-size CPU run (8 seeds, 5000 steps, width 64) JS, Hellinger, NS,
#   LSGAN and MMD covered all 8 (median), reverse KL 7 and Pearson 7.5 (but 0 for some seeds);
#   KL covered none (2 seeds diverged), WGAN-GP and zero-infinity at most one in most seeds. The
#   last two use the linear critic loss l(t) = −t and are meant for other solvers (several
#   critic steps per generator step for WGAN-GP, extragradient for zero-infinity: notebooks 01
#   and 03), not simultaneous GDA.
# * The distance is data: building the game from a `Distance` record (or a discriminator-free
#   objective) is the only line that changes, and a table of distances fits in one compiled
#   program.
