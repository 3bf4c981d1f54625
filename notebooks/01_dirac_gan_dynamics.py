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
# # Dirac GAN dynamics: four update rules, two timescales, three distances
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/minimax-dev/minimax/blob/main/notebooks/01_dirac_gan_dynamics.ipynb)
#
# The Dirac GAN (Mescheder, Geiger & Nowozin, ICML 2018) is the smallest GAN there is: the data
# is ν = δ₀, the generator is μ_θ = δ_θ (one number θ) and the critic is linear, f_w(x) = w·x
# (one number w). Every trajectory can be drawn, and it already shows why simultaneous gradient
# descent–ascent fails and what repairs it. This notebook
#
# 1. draws the descent field of the Jensen–Shannon, Wasserstein and zero-infinity Dirac GANs;
# 2. runs GDA, alternating GDA, extragradient (EG) and optimistic GDA (OGDA), each with one and
#    with two timescales, from many initial points: every distance, rule, timescale and seed in
#    **one** compiled program;
# 3. linearizes each rule at the equilibrium and compares the spectral radius obtained by
#    differentiating the code with its closed form, as the step size η grows.
#
# **Runtime.** At QUICK size (the default on a CPU; `MINIMAX_QUICK=1` forces it) it runs in 11–16
# s (three runs) on a loaded 2-core CPU, mostly compilation. Full size (`QUICK = False`, the
# default on a GPU or TPU; `MINIMAX_QUICK=0` forces it) runs 64 seeds instead of 16 for 10 000
# steps instead of 3000, and checks the spectral radius at 100 step sizes instead of 25: 29 s on
# the same CPU (JAX 0.10.2). Not measured on an accelerator.

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
# ## 1. The game and its descent field
#
# With a loss l, the Dirac GAN is
#
# $$\min_\theta \max_{w \in \mathcal W}\; L(\theta, w) = -l(f_w(0)) - l(-f_w(\theta)) = -l(0) - l(-w\theta).$$
#
# | distance | l(t) | critic set 𝒲 | s = \|l′(0)\| |
# |---|---|---|---|
# | Jensen–Shannon | log(1 + e^{−t}) | ℝ | 1/2 |
# | Wasserstein | −t | \|w\| ≤ 1 | 1 |
# | zero-infinity | −t | ℝ | 1 |
#
# minimax keeps both players in one pytree, `Players(min=θ, max=w)`, and works with the
# **descent field** F(p) = (∂_θ L, −∂_w L), each player's gradient of the loss it minimizes.
# Here F(θ, w) = l′(−wθ)·(w, −θ): near p* = (0, 0) it is a rotation,
# ∂F(p*) = s·[[0, −1], [1, 0]], with eigenvalues ±i·s and no real part at all.
# Following −F (what gradient steps do) circles around the equilibrium instead of reaching it.
# `games.dirac_gan(distance)` is a `Game` record: the loss, the equilibrium, a sampler of
# initial points and, for Wasserstein, the projection onto |w| ≤ 1 (which `train.run` enforces).

# %%
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax

from minimax import field_jacobian, plots, train, update_map_jacobian, updates
from minimax.games import DIRAC_DISTANCES, dirac_gan, rotation_spectral_radius

TITLES = {"js": "Jensen–Shannon", "wasserstein": "Wasserstein (|w| ≤ 1)", "zero_infinity": "zero-infinity"}
games = {d: dirac_gan(d) for d in DIRAC_DISTANCES}

speed = {}  # s: the eigenvalues of ∂F(p*) are ±i·s
for d, game in games.items():
    eigenvalues = np.linalg.eigvals(np.asarray(field_jacobian(game.field_fn(), game.equilibrium)))
    speed[d] = float(np.max(np.abs(eigenvalues.imag)))
    print(f"{TITLES[d]:>22}: eigenvalues of ∂F(p*) = {np.round(eigenvalues, 3)}")

fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), layout="constrained")
for ax, (d, game) in zip(axes, games.items()):
    plots.flow(ax, game.field_fn(), projection=game.projection)  # grey: outside the critic set
    ax.set_title(f"{TITLES[d]}: the flow −F")
plt.show()

# %% [markdown]
# ## 2. Four update rules and two timescales, written as optax transformations
#
# Update rules consume F exactly as optax consumes gradients, and each wraps an *inner*
# transformation. Here the inner step is `updates.timescaled(optax.sgd(η), τ)`: the SGD step
# −η·u followed by Λ_τ = diag(I/τ, I), which divides the generator's step by τ.
#
# | rule | one step (Λ = Λ_τ) | minimax |
# |---|---|---|
# | GDA | p⁺ = p − ηΛF(p) | `simultaneous(inner)` |
# | alternating GDA | w⁺ = w − ηF_w(θ, w), θ⁺ = θ − (η/τ)F_θ(θ, w⁺) | `alternating(inner)` |
# | EG | p⁺ = p − ηΛF(p − ηΛF(p)) | `extragradient(inner)` |
# | OGDA | p_{k+1} = p_k − ηΛ(2F(p_k) − F(p_{k−1})) | `optimistic(inner)` |
#
# With τ > 1, EG is the two-timescale extragradient of Chae, Kim & Kim (ICLR 2024). η and τ are
# traced numbers, so one compiled program serves every value: below, `vmap` runs both
# timescales and all seeds, and a Python loop over distances and rules *inside* one `jax.jit`
# puts everything in one program. `train.run` scans the steps and records the metrics (here
# the point itself) every `record_every` steps.

# %%
RULES = ("gda", "alt_gda", "eg", "ogda")  # names in the registry updates.RULES
LR, TAUS = 0.2, (1.0, 4.0)
SEEDS = 16 if QUICK else 64  # initial points, uniform in [-1, 1]²
STEPS = 3000 if QUICK else 10_000


def make_rule(name, lr, tau):
    return updates.rule(name, updates.timescaled(optax.sgd(lr), tau))


def point(params, key, game, game_state):  # the metrics recorded along a run
    return {"theta": params.min, "w": params.max}


@jax.jit
def run_all(keys, lr, taus):
    out = {}
    for d, game in games.items():
        for name in RULES:
            def one(key, tau, game=game, name=name):
                k_init, k_run = jax.random.split(key)
                result = train.run(game, make_rule(name, lr, tau), game.sample_init(k_init), k_run,
                                   steps=STEPS, record_every=1, metrics=point)
                return result.trajectory, result.diverged
            out[d, name] = jax.vmap(lambda tau: jax.vmap(lambda key: one(key, tau))(keys))(taus)  # (τ, seed, ...)
    return out


keys = jax.random.split(jax.random.PRNGKey(0), SEEDS)
runs = jax.device_get(run_all(keys, LR, jnp.asarray(TAUS)))  # {(distance, rule): (trajectory, diverged)}
print(f"{len(games)} distances × {len(RULES)} rules × {len(TAUS)} timescales × {SEEDS} seeds × {STEPS} steps,",
      f"η = {LR}")

# %% [markdown]
# Phase portraits of the first 300 steps from three initial points (τ = 1): GDA spirals out
# (for Wasserstein it is caught on a cycle by the constraint), alternating GDA orbits, EG and OGDA
# spiral in.

# %%
fig, axes = plt.subplots(len(games), len(RULES), figsize=(3 * len(RULES), 3 * len(games)), sharex=True,
                         sharey=True, layout="constrained")
for row, (d, game) in zip(axes, games.items()):
    for ax, name in zip(row, RULES):
        plots.flow(ax, game.field_fn(), projection=game.projection, density=0.5)
        trajectory = runs[d, name][0]
        for seed in range(3):
            ax.plot(trajectory["theta"][0, seed, :301], trajectory["w"][0, seed, :301], lw=1)
        ax.set_title(f"{TITLES[d]}, {name}", fontsize=9)
        ax.label_outer()
plt.show()

# %% [markdown]
# Distance to the equilibrium ‖p_k − p*‖ over all seeds: the median and the min–max band
# (`plots.seed_band_panels`). A seed whose parameters became non-finite would be flagged
# `diverged` and frozen, without touching the other seeds of the vmapped run.

# %%
steps = np.arange(STEPS + 1)
distance = {d: {f"{name}, τ = {tau:g}": np.hypot(runs[d, name][0]["theta"][t], runs[d, name][0]["w"][t])
                for name in RULES for t, tau in enumerate(TAUS)} for d in games}
plots.seed_band_panels(steps, {TITLES[d]: curves for d, curves in distance.items()}, ylabel="‖p_k − p*‖",
                       log=True, panels_per_row=3)

# %%
print(f"{'distance':>14} {'rule':>8} {'τ':>3} {'median ‖p_T‖':>13} {'converged':>10} {'diverged':>9}")
for d in games:
    for name in RULES:
        for t, tau in enumerate(TAUS):
            final = distance[d][f"{name}, τ = {tau:g}"][:, -1]
            diverged = runs[d, name][1][t]
            print(f"{d:>14} {name:>8} {tau:>3g} {np.median(final):13.2e} {np.sum(final < 1e-3):>6}/{SEEDS:<3} "
                  f"{np.sum(diverged):>6}/{SEEDS}")

# %% [markdown]
# ## 3. Linearization: the spectral radius against η
#
# Near p* each rule is a map p_{k+1} = T(p_k) with T(p*) = p*, and it converges locally iff the
# spectral radius ρ(∂T(p*)) < 1. `update_map_jacobian(rule, field_fn, p*)` obtains ∂T by
# differentiating one step of the rule itself (`jax.jacfwd` through the optax code), so it needs
# no formula and holds for any composition; for a rule with memory (OGDA keeps F(p_{k−1})) T acts
# on the parameters and the floating-point state together. `spectral_radius` is max |eig ∂T|; here
# the eigenvalues of the small matrices are taken on the host with NumPy, since JAX's
# nonsymmetric eigensolver runs on CPU and GPU but not on TPU.
#
# With the rotation ∂F(p*) (eigenvalues ±i·s) and h = ηs/√τ,
#
# * GDA: eigenvalues 1 ∓ ih, so ρ = √(1 + h²) > 1: every step spirals outwards;
# * EG: 1 − h² ∓ ih, so ρ = √(1 − h² + h⁴) < 1 for 0 < h < 1;
# * alternating GDA: det ∂T = 1 with a complex pair for h < 2, so ρ = 1: it cycles forever;
# * OGDA: the largest root of λ² − (1 − 2ih)λ − ih = 0, from p_{k+1} = p_k − 2ηF(p_k) + ηF(p_{k−1}).
#
# `games.rotation_spectral_radius` holds the first three. Below, the zero-infinity game (s = 1),
# the four rules with τ = 1 and two-timescale EG with τ = 4 (h = η/2); the Jensen–Shannon game is
# the same map at h = η/2 (s = 1/2), and Wasserstein equals zero-infinity near p* (the projection
# is inactive there).

# %%
ETAS = np.linspace(0.02, 2.0, 25 if QUICK else 100)
game = games["zero_infinity"]
LINEARIZED = {name: (name, 1.0) for name in RULES} | {"eg, τ = 4": ("eg", 4.0)}  # label: (rule, τ)


@jax.jit
@jax.vmap
def jacobians_at(lr):  # ∂T(p*) of every rule
    return {label: update_map_jacobian(make_rule(name, lr, tau), game.field_fn(), game.equilibrium)
            for label, (name, tau) in LINEARIZED.items()}


def closed_form(label, eta):
    name, tau = LINEARIZED[label]
    h = eta / np.sqrt(tau)
    if name == "ogda":  # the largest root of λ² − (1 − 2ih)λ − ih
        return np.array([np.max(np.abs(np.roots([1, -(1 - 2j * x), -1j * x]))) for x in h])
    return np.asarray(rotation_spectral_radius(name, h))


jacobians = jax.device_get(jacobians_at(jnp.asarray(ETAS, jnp.float32)))
eigenvalues = {label: np.linalg.eigvals(J) for label, J in jacobians.items()}  # on the host
radius = {label: np.max(np.abs(e), axis=-1) for label, e in eigenvalues.items()}
for label in LINEARIZED:
    error = np.nanmax(np.abs(radius[label] - closed_form(label, ETAS)))
    print(f"{label:>10}: max |ρ(code) − ρ(closed form)| over η = {error:.1e}")

# %% [markdown]
# In float32 the two agree to about 1e-6 (OGDA's double eigenvalue, where two roots meet, is the most
# sensitive to rounding). Right: the eigenvalues themselves as η grows; GDA's leave the unit
# circle at once, alternating GDA's stay on it, EG's and OGDA's move inside.

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), layout="constrained")
for label in LINEARIZED:
    (line,) = axes[0].plot(ETAS, closed_form(label, ETAS), lw=1.2, label=label)
    axes[0].plot(ETAS, radius[label], "o", ms=3, color=line.get_color())
axes[0].axhline(1, color="k", lw=0.8, ls=":")
axes[0].set(title="zero-infinity: lines closed form, dots code", xlabel="step size η",
            ylabel="spectral radius ρ(∂T(p*))", ylim=(0.4, 2.0))
axes[0].legend(fontsize=8)

circle = np.exp(1j * np.linspace(0, 2 * np.pi, 200))
axes[1].plot(circle.real, circle.imag, "k", lw=0.8)
for name in RULES:
    axes[1].scatter(eigenvalues[name].real.ravel(), eigenvalues[name].imag.ravel(), s=6, label=name)
axes[1].set(aspect="equal", xlim=(-1.6, 1.8), ylim=(-1.7, 1.7), xlabel="Re", ylabel="Im",
            title=f"eigenvalues of ∂T(p*), η ∈ [{ETAS[0]:g}, {ETAS[-1]:g}]")
axes[1].legend(fontsize=8, markerscale=2)
plt.show()

# %% [markdown]
# ## Takeaways
#
# * The Dirac GAN's field is a pure rotation at the equilibrium, for every distance. Simultaneous
#   GDA spirals outwards (ρ > 1 for every η), alternating GDA cycles (ρ = 1), while EG and OGDA
#   contract for small enough η; a second timescale τ > 1 slows the generator and with it the
#   contraction (h = ηs/√τ), without changing who converges on this game.
# * Wasserstein's constraint |w| ≤ 1 only bounds the critic: far from p* GDA is trapped on a cycle
#   instead of diverging, but it still does not converge. Zero-infinity, the same linear loss with
#   no constraint, converges under EG exactly like Wasserstein near p*.
# * The Jensen–Shannon game turns twice as slowly (s = 1/2), so a given η corresponds to half the h
#   and its rules converge (or diverge) more slowly.
# * `update_map_jacobian`/`spectral_radius` differentiate the rule's own code, so the same check
#   works for any rule you compose (see `04_composing_a_solver.ipynb`).
