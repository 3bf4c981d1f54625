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
# # Second-order and anchored rules, with their spectra
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/minimax-dev/minimax/blob/main/notebooks/05_second_order_and_anchored_rules.ipynb)
#
# Beyond GDA, extragradient and optimism, minimax ships rules that look at the *derivative* of the
# descent field F (competitive gradient descent, symplectic gradient adjustment, consensus
# optimization, Hamiltonian descent, Follow-the-Ridge, unrolled critics), a rule that averages
# fast and slow weights (Lookahead), and rules that pull every step back toward the starting
# point (the anchored EAG and FEG). Every second-order rule takes Jacobian-vector products of F
# by autodiff and never forms a matrix. This notebook
#
# 1. differentiates one step of each rule on the Dirac GAN and compares its spectral radius with
#    the closed form as the step size η grows, then runs every rule, step size and seed in **one**
#    `train.sweep`;
# 2. measures the O(1/k²) decay of ‖F(p_k)‖² of FEG and EAG against extragradient's on a
#    monotone linear game, with fitted log-log slopes;
# 3. pits Follow-the-Ridge against two-timescale GDA and EG on a game whose equilibrium is a local
#    minimax point but not a Nash point: who converges at τ = 1, and who needs τ > a/c;
# 4. takes matrix-free spectra of a real network game, the zero-infinity GAN on 32 MNIST digits:
#    its top eigenvalues at initialization by Arnoldi (checked against the dense eigenvalues of a
#    small version of it), the extragradient step size they suggest, and the stiffness along
#    training as the critic grows.
#
# **Runtime.** At QUICK size (the default on a CPU; `MINIMAX_QUICK=1` forces it) it runs in
# 33–38 s (three runs) on a loaded 2-core CPU, most of it compiling. Full size (`QUICK = False`,
# the default on a GPU or TPU; `MINIMAX_QUICK=0` forces it) runs the Dirac and quadratic sweeps
# with 64 seeds for 10 000 steps instead of 16 for 3000, checks 96 step sizes and 141 timescales
# instead of 24 and 36, follows 1000 modes for 10 000 steps instead of 100 for 1000, and takes
# the MNIST-32 game at width 128 (236 945 parameters instead of 53 681), its dense check on 14×14
# digits (1881 parameters instead of 261), 60 Krylov vectors instead of 30, and four
# extragradient runs of 2000 steps instead of three of 300: 115 s on the same CPU (JAX 0.10.2),
# 69 s of it those runs. Not measured on an accelerator.

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
# ## 1. The rules on a rotation: spectra against closed forms
#
# The zero-infinity Dirac GAN (`games.dirac_gan("zero_infinity")`, see
# `01_dirac_gan_dynamics.ipynb`) has the loss L(θ, w) = −wθ: it is the bilinear game (up to the
# sign of w), and its field F(θ, w) = (−w, θ) is a rotation everywhere, ∂F = [[0, −1], [1, 0]], on
# which simultaneous GDA spirals out. With inner step `optax.sgd(η)`, the rules of `updates.RULES` used here are
#
# | rule | step | minimax | ρ(∂T) on the rotation |
# |---|---|---|---|
# | GDA | p − ηF | `gda` | √(1 + η²) |
# | EG | p − ηF(p − ηF) | `eg` | √(1 − η² + η⁴) |
# | CGD | the Nash step of the local bilinear game | `cgd` | 1/√(1 + η²) |
# | SGA | GDA on F + λAᵀF, A = (J − Jᵀ)/2 | `sga` | √((1 − λη)² + η²) |
# | consensus | GDA on F + γJᵀF | `conopt` | √((1 − γη)² + η²) |
# | Hamiltonian | GD on ½‖F‖², i.e. on JᵀF | `hgd` | \|1 − η\| |
# | unrolled | the generator sees k = 5 simulated critic steps | `unrolled` | √(1 − 9η²) for 5η ≤ 1 |
# | Lookahead | φ ← φ + α(T⁵(φ) − φ) around GDA, α = ½ | `lookahead` | \|1 + α((1 + iη)⁵ − 1)\|^{1/5} per step |
# | FEG | EG anchored to p_0 with weight 1/(k + 1) | `feg` | none: the map changes with k |
#
# (`games.rotation_spectral_radius`; λ = γ = 1, the registry's defaults, so SGA and consensus
# coincide on a pure rotation, where AᵀF = JᵀF.) The Dirac GAN is zero-sum, so CGD's linear
# system (I + η²D_θw D_wθ)z = ⋯ is symmetric positive definite and conjugate gradients solve it
# (`solver="cg"`; the default GMRES handles general-sum games).
#
# `update_map_jacobian(rule, field_fn, p*)` differentiates steps of the rule's own code at p*
# (over the parameters and the floating-point state, e.g. Lookahead's slow weights); Lookahead's
# step depends on its counter, so its map is one whole cycle of 5 steps from a synchronization.

# %%
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from minimax import diagnostics, field_jacobian, train, update_map_jacobian, updates
from minimax.data import mnist32
from minimax.experiments import mnist32 as memorization
from minimax.games import bilinear, dirac_gan, quadratic, rotation_spectral_radius

dirac = dirac_gan("zero_infinity")
CYCLE = 5        # Lookahead's sync period (the registry's)
NAMES = ("gda", "eg", "cgd", "sga", "conopt", "hgd", "unrolled", "lookahead", "feg")
SPECTRAL = [name for name in NAMES if name != "feg"]  # the rules with a closed form


def make_rule(name, inner):
    """The registered rule around ``inner``; CGD with conjugate gradients (the games here are zero-sum)."""
    return updates.cgd(inner, solver="cg") if name == "cgd" else updates.rule(name, inner)


def predicted_radius(name, lr):
    """ρ per step on the unit rotation (Lookahead's per-cycle radius to the power 1/5)."""
    rho = np.asarray(rotation_spectral_radius(name, np.asarray(lr)))
    return rho ** (1 / CYCLE) if name == "lookahead" else rho


@jax.jit
@jax.vmap
def differentiated_steps(lr):  # ∂T(p*) of every rule (one cycle for Lookahead)
    return {name: update_map_jacobian(make_rule(name, optax.sgd(lr)), dirac.field_fn(), dirac.equilibrium,
                                      warmup_steps=0 if name == "lookahead" else 1,
                                      steps=CYCLE if name == "lookahead" else 1) for name in SPECTRAL}


STEP_SIZES = np.linspace(0.025, 1.5, 24 if QUICK else 96)
measured = {name: np.max(np.abs(np.linalg.eigvals(J)), axis=-1)  # on the host (no eigensolver on TPU)
            for name, J in jax.device_get(differentiated_steps(jnp.asarray(STEP_SIZES, jnp.float32))).items()}
measured["lookahead"] = measured["lookahead"] ** (1 / CYCLE)
closed = {name: predicted_radius(name, STEP_SIZES) for name in SPECTRAL}
for name in SPECTRAL:
    print(f"{name:>10}: max over {len(STEP_SIZES)} step sizes of |ρ(code) − ρ(closed form)| = "
          f"{np.max(np.abs(measured[name] - closed[name])):.1e}")

fig, ax = plt.subplots(figsize=(7.5, 4.6), layout="constrained")
for name in SPECTRAL:
    (line,) = ax.plot(STEP_SIZES, closed[name], lw=1.2, label=name)
    ax.plot(STEP_SIZES, measured[name], "o", ms=2.5, color=line.get_color())
ax.axhline(1, color="k", lw=0.8, ls=":")
ax.set(xlabel="step size η", ylabel="spectral radius per step", ylim=(0, 1.8),
       title="zero-infinity Dirac GAN: lines closed form, dots the differentiated code")
ax.legend(fontsize=8, ncol=3)
plt.show()

# %% [markdown]
# ### Every rule, step size and seed in one sweep
#
# `train.sweep` builds the rule from *traced* hyperparameters, so one compiled program serves a
# whole grid. To sweep over the rule itself, the small transformation below holds the state of
# every rule and steps the one chosen by a traced index (`lax.switch`; under `vmap` every branch
# is evaluated and the chosen one kept, which is cheap on a 2-parameter game). The runs start
# uniformly in [−1, 1]²; a run counts as converged when ‖p_T − p*‖ < 10⁻³. This game is linear,
# so its linearization holds everywhere: a rule should converge from every seed where ρ < 1 and
# from none where ρ > 1 (a run that overflows is flagged `diverged` and frozen).


# %%
def switch(index, rules):
    """The rule ``rules[index]`` for a traced integer ``index``; the state holds every rule's state."""
    rules = [optax.with_extra_args_support(rule) for rule in rules]

    def init(params):
        return tuple(rule.init(params) for rule in rules)

    def update(field, states, params=None, **extra):
        def branch(i):
            def step(states):
                u, state = rules[i].update(field, states[i], params, **extra)
                return u, states[:i] + (state,) + states[i + 1:]
            return step
        return jax.lax.switch(index, [branch(i) for i in range(len(rules))], states)

    return optax.GradientTransformationExtraArgs(init, update)


SWEEP_LRS = (0.15, 0.4, 0.7, 1.2)
SEEDS = 16 if QUICK else 64
SWEEP_STEPS = 3000 if QUICK else 10_000
grid = train.hyperparameter_grid(rule=np.arange(len(NAMES)), lr=SWEEP_LRS)  # lr varies fastest
sweep = train.sweep(dirac, lambda hp: switch(hp["rule"], [make_rule(n, optax.sgd(hp["lr"])) for n in NAMES]), grid,
                    jax.random.split(jax.random.PRNGKey(0), SEEDS), steps=SWEEP_STEPS, record_every=SWEEP_STEPS // 10,
                    strategy="vmap")
shape = (len(NAMES), len(SWEEP_LRS), SEEDS)
distance = sweep.trajectory["distance"].reshape(shape + (-1,))  # ‖p_k − p*‖ at the 11 records
converged = (distance[..., -1] < 1e-3).mean(-1)
diverged = np.asarray(sweep.diverged).reshape(shape).sum(-1)
print(f"{len(NAMES)} rules × {len(SWEEP_LRS)} step sizes × {SEEDS} seeds × {SWEEP_STEPS} steps in one sweep;"
      f" each cell: ρ, share of seeds converged, seeds diverged")
print(f"{'rule':>10} " + " ".join(f"{f'η = {lr:g}':>18}" for lr in SWEEP_LRS))
agree, cells = 0, 0
for i, name in enumerate(NAMES):
    rho = predicted_radius(name, SWEEP_LRS) if name in SPECTRAL else np.full(len(SWEEP_LRS), np.nan)
    print(f"{name:>10} " + " ".join(f"{'—' if np.isnan(r) else f'{r:.3f}':>6} {c:5.0%} {d:3d}/{SEEDS}"
                                    for r, c, d in zip(rho, converged[i], diverged[i])))
    if name in SPECTRAL:
        agree += int(np.sum(np.where(rho < 1, converged[i] == 1, converged[i] == 0)))
        cells += len(SWEEP_LRS)
print(f"every seed converged where ρ < 1 and none where ρ > 1: {agree} of {cells} (rule, η) cells")

# %% [markdown]
# FEG has no fixed linear map: its anchor pulls every step back toward p_0 with weight 1/(k + 1).
# Its distance to p* after k steps, fitted over the records of the sweep (median over seeds, k ≥
# T/10), decays like a power of k rather than geometrically:

# %%
record_steps = np.arange(0, SWEEP_STEPS + 1, SWEEP_STEPS // 10)
feg = NAMES.index("feg")
for j, lr in enumerate(SWEEP_LRS):
    if diverged[feg, j] == 0:
        median = np.median(distance[feg, j], axis=0)
        slope = np.polyfit(np.log(record_steps[1:]), np.log(median[1:]), 1)[0]
        print(f"FEG, η = {lr:g}: median ‖p_k − p*‖ ≈ k^{slope:.2f} (median at T: {median[-1]:.1e};"
              f" EG at the same η: {np.median(distance[NAMES.index('eg'), j, :, -1]):.1e})")
    else:
        print(f"FEG, η = {lr:g}: {diverged[feg, j]} of {SEEDS} seeds diverged")

# %% [markdown]
# ## 2. Anchoring: O(1/k²) on ‖F(p_k)‖² for monotone games
#
# For a monotone, L-Lipschitz F, the last iterate of extragradient has ‖F(p_k)‖² = O(1/k) in the
# worst case, while EAG (Yoon & Ryu, ICML 2021) and FEG (Lee & Kim, NeurIPS 2021) reach
# O(1/k²), the optimal rate, by adding β_k(p_0 − p_k), β_k ~ 1/k, to both half-steps (Halpern's
# iteration). The test game is the monotone linear game L(x, y) = xᵀ diag(σ) y with σ spread
# evenly over (0, 1] (L = 1), `games.bilinear(diag(σ))`, and the step η = 1/(8L) of EAG's
# analysis. On the mode σ extragradient contracts by only ≈ 1 − η²σ²/2 per step, so the small
# σ keep ‖F‖ up; the anchored rules trade linear convergence for a rate that does not depend on
# σ. `train.run` records ‖F(p_k)‖ at every step (`stats["field_norm"]`).

# %%
MODES = 100 if QUICK else 1000
ANCHOR_STEPS = 1000 if QUICK else 10_000
sigma = jnp.linspace(1.0 / MODES, 1.0, MODES)
monotone = bilinear(jnp.diag(sigma))
start = minimax.Players(jnp.ones(MODES), jnp.ones(MODES))


@jax.jit
def field_norms(game, p):  # ‖F(p_k)‖, k = 0 .. ANCHOR_STEPS − 1, of each rule
    return {name: train.run(game, updates.rule(name, optax.sgd(1 / 8)), p, jax.random.PRNGKey(0),
                            steps=ANCHOR_STEPS, record_every=1).stats["field_norm"] for name in ("eg", "eag", "feg")}


squared = {name: np.asarray(norms, np.float64) ** 2 for name, norms in field_norms(monotone, start).items()}
k = np.arange(ANCHOR_STEPS)
fit = k >= 50  # past the first steps
slopes = {name: np.polyfit(np.log(k[fit]), np.log(sq[fit]), 1) for name, sq in squared.items()}
for name, (slope, _) in slopes.items():
    ratio = "" if name == "eg" else f", {squared['eg'][-1] / squared[name][-1]:.0f} times below EG's"
    print(f"{name:>4}: log-log slope of ‖F(p_k)‖² over k ∈ [50, {ANCHOR_STEPS}) = {slope:+.2f};"
          f" ‖F‖² at the last step {squared[name][-1]:.2e}{ratio}")

fig, ax = plt.subplots(figsize=(7, 4.4), layout="constrained")
styles = {"eg": dict(lw=1.4), "eag": dict(lw=3, alpha=0.5), "feg": dict(lw=1.2, ls=":")}  # EAG ≈ FEG: wide, dotted
for name, sq in squared.items():
    slope, intercept = slopes[name]
    (line,) = ax.plot(k[1:], sq[1:], **styles[name], label=f"{name}: fitted slope {slope:+.2f}")
    ax.plot(k[fit], np.exp(intercept) * k[fit] ** slope, "--", lw=0.8, color=line.get_color())
ax.set(xscale="log", yscale="log", xlabel="step k", ylabel="‖F(p_k)‖²",
       title=f"xᵀdiag(σ)y, {MODES} modes σ ∈ (0, 1], η = 1/8 (dashed: fits)")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## 3. Follow-the-Ridge on a local minimax point that is not a Nash point
#
# `games.quadratic(a, b, c)` is L(x, y) = −(a/2)x² + bxy − (c/2)y² with b² > ac: the origin is
# a strict *local minimax* point (y maximizes L for each x, and x minimizes the envelope, whose
# curvature is the Schur complement b²/c − a > 0) but not a Nash point: x alone would move away
# (∂²_xx L = −a < 0). With two timescales (generator step η/τ, critic step η; `timescaled`) the
# flow ṗ = −Λ_τF(p) is stable iff τ > a/c: the critic must be fast enough to track its best
# response. Follow-the-Ridge (Wang, Zhang & Ba, ICLR 2020) adds to the critic's step the move of
# its ridge y*(x), −J_yy⁻¹J_yx Δx (a CG solve of Hessian-vector products); its linearized map
# has eigenvalues 1 − ηc and 1 − (η/τ)(b²/c − a), both inside the unit circle for small η at
# *every* τ. Here a = 2, b = 2, c = 1 (a/c = 2) and η = 0.2; the closed forms of GDA and EG are
# the eigenvalues of I − ηΛ_τJ and I − ηΛ_τJ + (ηΛ_τJ)² with J = ∂F(0).

# %%
a, b, c = 2.0, 2.0, 1.0
ridge_game = quadratic(a, b, c)
LR = 0.2
TIMESCALED = ("gda", "eg", "ftr")
TAUS = np.linspace(0.5, 4.0, 36 if QUICK else 141)
J = np.asarray(field_jacobian(ridge_game.field_fn(), ridge_game.equilibrium), np.float64)


def quadratic_radius(name, tau):
    """Closed-form ρ on the quadratic game at step LR and timescale tau."""
    if name == "ftr":
        return max(abs(1 - LR * c), abs(1 - LR / tau * (b * b / c - a)))
    step = LR * np.diag([1 / tau, 1.0]) @ J
    T = np.eye(2) - step + (step @ step if name == "eg" else 0)
    return np.max(np.abs(np.linalg.eigvals(T)))


@jax.jit
@jax.vmap
def timescale_steps(tau):
    inner = updates.timescaled(optax.sgd(LR), tau)
    return {name: update_map_jacobian(updates.rule(name, inner), ridge_game.field_fn(), ridge_game.equilibrium)
            for name in TIMESCALED}


ridge_measured = {name: np.max(np.abs(np.linalg.eigvals(M)), axis=-1)
                  for name, M in jax.device_get(timescale_steps(jnp.asarray(TAUS, jnp.float32))).items()}
ridge_closed = {name: np.array([quadratic_radius(name, t) for t in TAUS]) for name in TIMESCALED}


def stable_from(margin):
    """The τ above which ``margin`` (on TAUS) stays positive, linearly interpolated; None if it never turns."""
    bad = np.flatnonzero(margin <= 0)
    if bad.size == 0:
        return None
    i = bad[-1]
    return TAUS[i] - margin[i] * (TAUS[i + 1] - TAUS[i]) / (margin[i + 1] - margin[i]) if i + 1 < TAUS.size else np.inf


flow_margin = np.array([np.min(np.linalg.eigvals(np.diag([1 / t, 1.0]) @ J).real) for t in TAUS])  # > 0: stable
print(f"the flow ṗ = −Λ_τF(p) is stable for τ > {stable_from(flow_margin):.3f} (a/c = {a / c:g})")
for name in TIMESCALED:
    error = np.abs(ridge_measured[name] - ridge_closed[name])
    threshold = stable_from(1 - ridge_measured[name])
    where = f"for τ > {threshold:.3f}" if threshold is not None else f"on the whole grid τ ∈ [{TAUS[0]:g}, {TAUS[-1]:g}]"
    print(f"{name:>4}: ρ < 1 {where}; ρ at τ = 1: {ridge_measured[name][np.argmin(np.abs(TAUS - 1))]:.3f};"
          f" max |ρ(code) − ρ(closed form)| = {error.max():.1e} at τ = {TAUS[np.argmax(error)]:.2f}")
worst = TAUS[np.argmax(np.abs(ridge_measured["ftr"] - ridge_closed["ftr"]))]
print(f"FTR's two eigenvalues at τ = {worst:.2f}: 1 − ηc = {1 - LR * c:.3f}, 1 − (η/τ)(b²/c − a) ="
      f" {1 - LR / worst * (b * b / c - a):.3f}")

# %% [markdown]
# FTR's largest deviation from its closed form sits where its two eigenvalues coincide (printed
# above): a double eigenvalue of a non-symmetric matrix moves by about the square root of the
# rounding error, √(10⁻⁷) in float32. The same three rules over τ and seeds in one sweep (the
# `switch` of section 1, now around `timescaled(sgd(η), τ)` with τ traced):

# %%
SWEEP_TAUS = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0)
ridge_sweep = train.sweep(
    ridge_game, lambda hp: switch(hp["rule"], [updates.rule(n, updates.timescaled(optax.sgd(LR), hp["tau"]))
                                               for n in TIMESCALED]),
    train.hyperparameter_grid(rule=np.arange(len(TIMESCALED)), tau=SWEEP_TAUS),
    jax.random.split(jax.random.PRNGKey(1), SEEDS), steps=SWEEP_STEPS, record_every=SWEEP_STEPS // 10, strategy="vmap")
ridge_converged = (ridge_sweep.trajectory["distance"][:, :, -1] < 1e-3).reshape(len(TIMESCALED), len(SWEEP_TAUS),
                                                                                  SEEDS).mean(-1)
print(f"converged seeds of {SEEDS} after {SWEEP_STEPS} steps, η = {LR}:")
print(f"{'rule':>5} " + " ".join(f"{f'τ = {t:g}':>8}" for t in SWEEP_TAUS))
for name, row in zip(TIMESCALED, ridge_converged):
    print(f"{name:>5} " + " ".join(f"{x:8.0%}" for x in row))

fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
for name in TIMESCALED:
    (line,) = axes[0].plot(TAUS, ridge_closed[name], lw=1.2, label=name)
    axes[0].plot(TAUS, ridge_measured[name], "o", ms=2.5, color=line.get_color())
    axes[1].plot(SWEEP_TAUS, ridge_converged[TIMESCALED.index(name)], "o-", color=line.get_color(), label=name)
for ax in axes:
    ax.axvline(a / c, color="k", lw=0.8, ls="--")
axes[0].axhline(1, color="k", lw=0.8, ls=":")
axes[0].set(xlabel="timescale τ", ylabel="ρ(∂T(0))", title=f"quadratic game, η = {LR} (dashed: τ = a/c)")
axes[1].set(xlabel="timescale τ", ylabel="fraction of seeds converged", ylim=(-0.05, 1.05),
            title=f"{SEEDS} seeds, {SWEEP_STEPS} steps")
for ax in axes:
    ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## 4. Matrix-free spectra of a network game: 32 MNIST digits
#
# The game of `03_memorization_mnist32.ipynb` (`minimax.experiments.mnist32.build_game`): an MLP
# generator from 32 fixed codes ẑ to 784 pixels and an MLP critic, with the zero-infinity
# distance (a linear critic loss and no constraint on the critic). With tens of thousands of
# parameters ∂F is far too large to form; `diagnostics.top_field_eigenvalues` runs Arnoldi on
# v ↦ ∂F(p)v (one `jax.linearize` of F, then one JVP per Krylov vector), and its extreme Ritz
# values converge first. First a check against the dense spectrum, on the same game built from
# the digits averaged down to 4×4 pixels (14×14 at full size) with width-4 networks, small enough
# for `field_jacobian` and `np.linalg.eigvals`. (Arnoldi ends with the eigenvalues of a small
# Hessenberg matrix, `jnp.linalg.eigvals` on the device, which JAX does not implement on TPU.)

# %%
digits, _ = mnist32(scale="unit")
codes = jax.random.normal(jax.random.PRNGKey(0), (digits.shape[0], 16))  # the fixed latent codes ẑ
KRYLOV = 30 if QUICK else 60
POOL = 7 if QUICK else 2
pooled = np.asarray(digits).reshape(-1, 28 // POOL, POOL, 28 // POOL, POOL).mean((2, 4)).reshape(len(digits), -1)
small_game, _, _ = memorization.build_game("zero_infinity", pooled, codes, 4)


@jax.jit
def dense_and_ritz(game, key):
    p = game.sample_init(key)
    f = game.field_fn()
    return (field_jacobian(f, p),
            diagnostics.top_field_eigenvalues(f, p, k=KRYLOV, krylov_dim=KRYLOV))  # all Ritz values, by modulus


jac, ritz = jax.device_get(dense_and_ritz(small_game, jax.random.PRNGKey(1)))
dense = np.linalg.eigvals(np.asarray(jac, np.float64))
dense = dense[np.argsort(-np.abs(dense))]
TOP = 6
error = max(np.min(np.abs(dense[:TOP] - lam)) / abs(lam) for lam in ritz[:TOP])
print(f"{pooled.shape[1]}-pixel digits, width 4: n = {jac.shape[0]} parameters;"
      f" the top {TOP} of {KRYLOV} Ritz values by modulus match the dense eigenvalues to {error:.1e} (relative)")
print("top eigenvalues, dense:", np.round(dense[:TOP], 3))
print("top Ritz values:       ", np.round(ritz[:TOP], 3))

# %% [markdown]
# Now the game itself at the width of the `minimax mnist32` command (32 at QUICK size, its
# default 128 at full size). `diagnostics.suggest_step_size` turns the stiffness |λ|max into an
# extragradient step η = c/|λ|max, c = ½: EG multiplies an eigendirection λ of ∂F by
# 1 − ηλ + η²λ², of modulus < 1 when 0 < η|λ| < 1 *and λ lies in the right half-plane*, as it does
# for a monotone game. The smallest real part (`which="SR"`) tells whether that holds here.

# %%
WIDTH = memorization.QUICK["width"] if QUICK else memorization.DEFAULTS["width"]
mnist_game, _, _ = memorization.build_game("zero_infinity", digits, codes, WIDTH)


@jax.jit
def spectrum_at_init(game, key):
    p = game.sample_init(key)
    f = game.field_fn()
    return (p, diagnostics.top_field_eigenvalues(f, p, k=KRYLOV, krylov_dim=KRYLOV),
            diagnostics.top_field_eigenvalues(f, p, which="SR", krylov_dim=KRYLOV),
            diagnostics.suggest_step_size(f, p, krylov_dim=KRYLOV))


p0, mnist_ritz, least_stable, suggested = jax.device_get(spectrum_at_init(mnist_game, jax.random.PRNGKey(1)))
print(f"width {WIDTH}: n = {ravel_pytree(p0)[0].size} parameters; top eigenvalues of ∂F(p_0) by modulus:",
      np.round(mnist_ritz[:TOP], 2))
print(f"stiffness |λ|max = {abs(mnist_ritz[0]):.2f}; suggested EG step η_s = 0.5/|λ|max = {suggested:.4f};"
      f" smallest real part {least_stable[0].real:.2f} ({'not ' if least_stable[0].real < 0 else ''}monotone at p_0)")

fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
axes[0].plot(dense.real, dense.imag, ".", ms=3, color="0.6", label=f"dense, all {dense.size}")
axes[0].plot(ritz.real, ritz.imag, "o", mfc="none", ms=7, color="C3", label=f"Arnoldi, {KRYLOV} Ritz values")
axes[0].set(title=f"small game (n = {dense.size}): Ritz values against the dense spectrum")
axes[1].plot(mnist_ritz.real, mnist_ritz.imag, "o", mfc="none", ms=7, color="C3", label=f"{KRYLOV} Ritz values")
axes[1].plot(least_stable.real, least_stable.imag, "kx", ms=9, label="smallest real part (SR)")
axes[1].set(title=f"MNIST-32, width {WIDTH} (n = {ravel_pytree(p0)[0].size}): matrix-free only")
for ax in axes:
    ax.axvline(0, color="k", lw=0.6)
    ax.set(xlabel="Re λ", ylabel="Im λ")
    ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ### The stiffness along training
#
# `diagnostics.stiffness_metric` records |λ|max of ∂F at every record of `train.run` (Arnoldi with
# 10 JVPs per record). Below, extragradient with SGD at η_s and at smaller steps, from the same p_0, every
# run in one program (`lax.map` over η), with the critic's weight norm recorded next to it. A run
# whose parameters turn non-finite is flagged `diverged` at that step and frozen; its later
# records are dropped below.

# %%
FRACTIONS = (1, 1 / 4, 1 / 16) if QUICK else (1, 1 / 4, 1 / 16, 1 / 64)
RUN_STEPS = 300 if QUICK else 2000
RECORD = 10


def critic_size(params, key, game, game_state):
    return {"critic_norm": train.tree_norm(params.max)}


@jax.jit
def eg_runs(game, p, lrs):
    def one(lr):
        result = train.run(game, updates.extragradient(optax.sgd(lr)), p, jax.random.PRNGKey(2), steps=RUN_STEPS,
                           record_every=RECORD, metrics=diagnostics.stiffness_metric(10, base=critic_size))
        return result.trajectory, result.diverged_step
    return jax.lax.map(one, lrs)


lrs = suggested * np.asarray(FRACTIONS, np.float32)
records, diverged_step = jax.device_get(eg_runs(mnist_game, p0, jnp.asarray(lrs)))
record_steps = np.arange(0, RUN_STEPS + 1, RECORD)
print(f"stiffness at p_0: {records['stiffness'][0, 0]:.2f} from stiffness_metric's 10 Krylov vectors,"
      f" {abs(mnist_ritz[0]):.2f} from {KRYLOV}")
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
for i, (fraction, lr) in enumerate(zip(FRACTIONS, lrs)):
    kept = record_steps < (diverged_step[i] if diverged_step[i] > 0 else RUN_STEPS + 1)  # before it diverged
    steps, stiffness, critic_norm = record_steps[kept], records["stiffness"][i][kept], records["critic_norm"][i][kept]
    label = f"η = η_s/{1 / fraction:g}"
    outcome = f"diverged at step {diverged_step[i]}" if diverged_step[i] > 0 else f"finite for all {RUN_STEPS} steps"
    now = 0.5 / stiffness[-1]  # the step suggested at the last record
    print(f"{label:>11} = {lr:.2e}, {outcome}. From step 0 to {steps[-1]}: critic norm {critic_norm[0]:.3g} →"
          f" {critic_norm[-1]:.3g}, stiffness {stiffness[0]:.3g} → {stiffness[-1]:.3g}; the step 0.5/|λ|max"
          f" suggested there is {now:.2e}, " + (f"{lr / now:.3g} times below η" if now < lr else "still above η"))
    axes[0].plot(steps, stiffness, "o-", ms=3, label=label)
    axes[1].plot(critic_norm, stiffness, "o-", ms=3, label=label)
axes[0].set(xlabel="step k", ylabel="stiffness |λ|max(∂F(p_k))", yscale="log",
            title="extragradient (SGD) from the same p_0")
axes[1].set(xlabel="critic weight norm ‖w_k‖", ylabel="stiffness |λ|max(∂F(p_k))", xscale="log", yscale="log",
            title="stiffness against the critic's size")
for ax in axes:
    ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## Takeaways
#
# * `update_map_jacobian` differentiates a rule's own step, second-order rules included (CGD's
#   Krylov solve, SGA's and consensus' Jacobian-vector products, the unrolled critic's `vjp`), so
#   each closed form of the table is a check of the implementation, and a `lax.switch` over rules
#   puts rules, step sizes and seeds in one `train.sweep`.
# * The anchored rules pay for their pull toward p_0 with sublinear convergence on a rotation,
#   and buy the optimal O(1/k²) last-iterate rate on ‖F‖² for every monotone game, where
#   extragradient's depends on the spectrum.
# * At a local minimax point that is not a Nash point, two timescales only help once τ exceeds
#   (about) a/c; Follow-the-Ridge converges at τ = 1, at the price of a linear solve per step.
# * On a network game, Arnoldi gives the stiffness from a few dozen JVPs, and matches the dense
#   spectrum where that can still be formed. The suggested step η = c/|λ|max controls rotation,
#   not instability: at initialization the MNIST-32 game has eigenvalues with negative real part
#   (it is not monotone there), the critic grows along the runs and the stiffness with it, so a
#   step chosen at p_0 is soon too large; a smaller step only makes extragradient diverge later
#   (or not within the run).
