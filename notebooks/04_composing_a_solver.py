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
# # Composing your own min–max solver
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/minimax-dev/minimax/blob/main/notebooks/04_composing_a_solver.ipynb)
#
# minimax's update rules are optax transformations that consume the descent field F instead of a
# gradient. So a new solver is either a **composition** of existing pieces (rules, optax
# optimizers, projections, timescales, averaging) or a **new transformation** of a few lines.
# This notebook
#
# 1. composes two-timescale Extra-Adam with a running average of the iterates;
# 2. writes a new rule, *Lookahead*, as a small optax transformation that wraps any rule, and
#    checks it against the library's `updates.lookahead`;
# 3. checks it against theory: its spectral radius on the bilinear game, computed by
#    differentiating the code, against the closed form;
# 4. sweeps it over step sizes, Lookahead rates and seeds in **one** compiled program with
#    `train.sweep`, whose runs are split over all devices. On a CPU the first cell exposes the
#    host as 4 XLA devices (`cpu_devices=4`), so that this path runs everywhere; on a GPU or TPU
#    runtime the accelerators are used.
#
# **Runtime.** At QUICK size (the default on a CPU; `MINIMAX_QUICK=1` forces it) it runs in 6–10 s
# (three runs) on a loaded 2-core CPU, mostly compilation. Full size (`QUICK = False`, the default
# on a GPU or TPU; `MINIMAX_QUICK=0` forces it) sweeps 380 (η, α) pairs × 64 seeds × 2000 steps
# instead of 48 × 8 × 200, and checks 60 step sizes instead of 15: 20 s on the same CPU (JAX
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

QUICK = minimax.notebook_setup(cpu_devices=4)

# %% [markdown]
# ## 1. Anatomy of a rule, and a composition
#
# A rule is an `optax.GradientTransformationExtraArgs`: `init(params) -> state` and
# `update(field, state, params, *, field_fn=..., projection=...) -> (updates, state)`, where
# `field` is F(p_k), `field_fn` evaluates F elsewhere (extragradient's extrapolation, alternating
# GDA's second player) and `projection` is the game's constraint set. Because the field plays the
# role of a gradient, optax pieces compose unchanged. Here: two-timescale Extra-Adam, with a
# uniform average of the iterates,
#
# $$\tilde p_k = p_k + \Lambda_\tau\,\mathrm{Adam}(F(p_k)),\quad p_{k+1} = p_k + \Lambda_\tau\,\mathrm{Adam}(F(\tilde p_k)),
# \quad \bar p_{k+1} = \bar p_k + \tfrac{1}{k+1}(p_{k+1} - \bar p_k).$$
#
# Λ_τ = diag(I/τ, I) comes *after* Adam in the chain: Adam divides each coordinate by its own
# running scale, so a scaling placed before it would cancel (`updates.timescaled` builds the
# chain optimizer → Λ_τ). `averaging` leaves the iterates unchanged and keeps p̄ in its state;
# `train.run` evaluates the metrics at p̄.
#
# The test game is the bilinear game L(x, y) = x·y (`games.bilinear()`, equilibrium p* = 0),
# whose field F = (y, −x) is a pure rotation: the hardest case for GDA.

# %%
from typing import NamedTuple

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax

from minimax import Players, plots, train, update_map_jacobian, updates
from minimax.games import bilinear, rotation_spectral_radius

game = bilinear()
p0 = Players(jnp.asarray(1.0), jnp.asarray(1.0))
STEPS = 300 if QUICK else 3000

extra_adam = updates.extragradient(updates.timescaled(optax.adam(0.05, b1=0.5), 2.0))
rules = {"2ts Extra-Adam": extra_adam,
         "2ts Extra-Adam, average p̄": updates.averaging(extra_adam)}  # the same iterates, plus p̄


def point(params, key, game, game_state):  # the metrics recorded along a run
    return {"x": params.min, "y": params.max}


def trajectories(rules, p, key):  # every rule's run from p, in one program
    run = jax.jit(lambda p, key: {name: train.run(game, rule, p, key, steps=STEPS, record_every=1,
                                                  metrics=point).trajectory for name, rule in rules.items()})
    return jax.device_get(run(p, key))


paths = trajectories(rules, p0, jax.random.PRNGKey(0))
for name, path in paths.items():
    print(f"{name:>28}: after {STEPS} steps ‖p − p*‖ = {np.hypot(path['x'][-1], path['y'][-1]):.2e}")

# %% [markdown]
# ## 2. A new rule: Lookahead
#
# Lookahead (Zhang et al., NeurIPS 2019; for games, Chavdarova et al., "Taming GANs with
# Lookahead–Minmax", ICLR 2021) keeps *slow* weights φ. The wrapped rule takes k fast steps from
# φ; then the slow weights move part of the way and the fast weights restart from them:
#
# $$p \leftarrow T^k(\varphi), \qquad \varphi \leftarrow \varphi + \alpha\,(p - \varphi), \qquad p \leftarrow \varphi.$$
#
# The state holds the inner rule's state, φ and a step counter; α is a traced number (so a sweep
# over it is vmapped), k a Python integer. Extra arguments such as `field_fn` pass through to the
# inner rule, so it wraps GDA, EG, OGDA or any composition alike. minimax ships the same rule as
# `updates.lookahead` (which also projects the fast point onto the game's constraint set); the
# two agree step for step.

# %%
class LookaheadState(NamedTuple):
    inner_state: optax.OptState
    slow: optax.Params  # φ
    count: jax.Array    # steps taken


def lookahead(inner: optax.GradientTransformation, *, sync_period: int = 5, alpha=0.5):
    # Lookahead around any rule: k = sync_period fast steps, then φ ← φ + α(p − φ), p ← φ.
    inner = optax.with_extra_args_support(inner)

    def init(params):
        return LookaheadState(inner.init(params), params, jnp.zeros([], jnp.int32))

    def update(field, state, params=None, **extra):
        u, inner_state = inner.update(field, state.inner_state, params, **extra)
        fast = optax.apply_updates(params, u)
        count = state.count + 1
        sync = count % sync_period == 0
        slow = jax.tree_util.tree_map(lambda s, f: jnp.where(sync, s + alpha * (f - s), s), state.slow, fast)
        new = jax.tree_util.tree_map(lambda s, f: jnp.where(sync, s, f), slow, fast)
        return optax.tree_utils.tree_sub(new, params), LookaheadState(inner_state, slow, count)

    return optax.GradientTransformationExtraArgs(init, update)


K, ALPHA, LR = 5, 0.5, 0.2
gda = lambda lr: updates.simultaneous(optax.sgd(lr))
eg = lambda lr: updates.extragradient(optax.sgd(lr))
candidates = {"GDA": gda(LR), f"Lookahead-GDA (α = {ALPHA})": lookahead(gda(LR), sync_period=K, alpha=ALPHA),
              "EG": eg(LR), f"Lookahead-EG (α = {ALPHA})": lookahead(eg(LR), sync_period=K, alpha=ALPHA),
              "updates.lookahead(GDA)": updates.lookahead(gda(LR), sync_period=K, alpha=ALPHA)}
paths |= trajectories(candidates, p0, jax.random.PRNGKey(0))
ours, library = paths[f"Lookahead-GDA (α = {ALPHA})"], paths.pop("updates.lookahead(GDA)")
print("this Lookahead = updates.lookahead at every step:",
      all(np.allclose(ours[c], library[c], rtol=1e-6, atol=1e-7) for c in ("x", "y")))

fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), layout="constrained")
plots.flow(axes[0], game.field_fn(), limit=3.0)
for name, path in paths.items():
    axes[0].plot(path["x"][:150], path["y"][:150], lw=1, label=name)
    axes[1].plot(np.hypot(path["x"], path["y"]), label=name)
axes[0].set(xlabel="x (min player)", ylabel="y (max player)", aspect="equal",
            title=f"first 150 steps from (1, 1), η = {LR}")
axes[1].set(yscale="log", xlabel="step", ylabel="‖p_k − p*‖", ylim=(1e-8, 1e3),
            title="distance to the equilibrium")
axes[1].legend(fontsize=8)
plt.show()

# %% [markdown]
# ## 3. Spectral radius: code against closed form
#
# `update_map_jacobian(rule, field_fn, p*)` differentiates steps of the rule at the fixed point,
# over the parameters *and* the floating-point state (here φ); `spectral_radius` is the largest
# modulus of its eigenvalues (taken here with NumPy on the host, which works on every backend).
# Lookahead's step depends on the counter, so the right object is the map of one whole cycle of
# k steps from a synchronization (`warmup_steps=0, steps=k`); per step, the contraction is
# ρ_cycle^{1/k}.
#
# On x·y the fast GDA steps multiply each complex coordinate by (1 ∓ iη), so one cycle maps φ to
# φ + α((1 ∓ iη)^k − 1)φ and
#
# $$\rho_{\text{cycle}} = \big|\,1 + \alpha\,((1 + i\eta)^k - 1)\,\big|, \qquad
# \rho_{\text{GDA}} = \sqrt{1 + \eta^2}, \qquad \rho_{\text{EG}} = \sqrt{1 - \eta^2 + \eta^4}$$
#
# (`games.rotation_spectral_radius`). GDA alone expands for every η; Lookahead (a contraction
# towards the slow weights every k steps) pulls it back inside the unit circle for a range of η
# that depends on α.

# %%
ETAS = np.linspace(0.02, 1.2, 15 if QUICK else 60)
field_fn = game.field_fn()


@jax.jit
@jax.vmap
def jacobians(lr):  # ∂T(p*): one step of GDA and EG, one cycle of k steps of Lookahead
    cycle = lookahead(gda(lr), sync_period=K, alpha=ALPHA)
    return {"gda": update_map_jacobian(gda(lr), field_fn, game.equilibrium),
            "eg": update_map_jacobian(eg(lr), field_fn, game.equilibrium),
            "lookahead": update_map_jacobian(cycle, field_fn, game.equilibrium, warmup_steps=0, steps=K)}


code_radii = {name: np.max(np.abs(np.linalg.eigvals(J)), axis=-1)  # on the host: no eigensolver on TPU
              for name, J in jax.device_get(jacobians(jnp.asarray(ETAS, jnp.float32))).items()}
code_radii["lookahead"] = code_radii["lookahead"] ** (1 / K)  # per step
closed = {name: np.asarray(rotation_spectral_radius(name, ETAS, sync_period=K, alpha=ALPHA)) for name in code_radii}
closed["lookahead"] = closed["lookahead"] ** (1 / K)
for name in closed:
    print(f"{name:>10}: max |ρ(code) − ρ(closed form)| = {np.max(np.abs(code_radii[name] - closed[name])):.1e}")

fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
for name in closed:
    (line,) = ax.plot(ETAS, closed[name], label=f"{name} (closed form)")
    ax.plot(ETAS, code_radii[name], "o", ms=3, color=line.get_color())
ax.axhline(1, color="k", lw=0.8, ls=":")
ax.set(xlabel="step size η", ylabel="spectral radius per step",
       title=f"bilinear x·y, Lookahead k = {K}, α = {ALPHA} (dots: code)")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## 4. A sweep over step size, Lookahead rate and seeds, on every device
#
# `train.sweep(game, rule_of, grid, keys, steps=...)` runs `train.run` for every grid point h and
# seed s, with the rule built by `rule_of(grid[h])` from *traced* hyperparameters, so new values
# never recompile. All runs form one flat batch in one program, split across the devices
# (`jax.shard_map` on a one-dimensional mesh) and vmapped on each. Seeds draw the initial point
# uniformly in [−1, 1]². The closed form predicts convergence where ρ_cycle < 1, inside the white
# contour.

# %%
SEEDS = 2 * len(jax.devices()) if QUICK else 64
SWEEP_STEPS = 200 if QUICK else 2000
lrs = np.linspace(0.05, 1.0, 8 if QUICK else 20)
alphas = np.linspace(0.1, 1.0, 6 if QUICK else 19)
grid = train.hyperparameter_grid(lr=lrs, alpha=alphas)  # alpha varies fastest
keys = jax.random.split(jax.random.PRNGKey(0), SEEDS)


def rule_of(hp):
    return lookahead(gda(hp["lr"]), sync_period=K, alpha=hp["alpha"])


result = train.sweep(game, rule_of, grid, keys, steps=SWEEP_STEPS)
final = result.trajectory["distance"][:, :, -1]  # ‖p_T − p*‖, (grid point, seed)
print(f"{len(lrs) * len(alphas)} (η, α) pairs × {SEEDS} seeds × {SWEEP_STEPS} steps on {len(jax.devices())}",
      f"devices; diverged runs: {int(np.sum(result.diverged))}")

median = np.median(np.where(result.diverged, np.inf, final), axis=1).reshape(len(lrs), len(alphas))
L, A = np.meshgrid(lrs, alphas, indexing="ij")
rho = np.asarray(rotation_spectral_radius("lookahead", L, sync_period=K, alpha=A))
fig, ax = plt.subplots(figsize=(6.5, 4.5), layout="constrained")
mesh = ax.pcolormesh(alphas, lrs, np.log10(np.clip(median, 1e-12, 1e6)), cmap="viridis", shading="nearest")
ax.contour(alphas, lrs, rho, levels=[1.0], colors="w")
fig.colorbar(mesh, label="log10 median ‖p_T − p*‖")
ax.set(xlabel="Lookahead rate α", ylabel="step size η",
       title=f"Lookahead-GDA on x·y after {SWEEP_STEPS} steps (white: ρ_cycle = 1)")
plt.show()

# %% [markdown]
# The placement of the runs on devices does not change their numbers: the same sweep on one
# device gives the same results.

# %%
single = train.sweep(game, rule_of, grid, keys, steps=SWEEP_STEPS, devices=jax.devices()[:1])
print(f"{len(jax.devices())} devices vs 1 device, identical:",
      bool(np.allclose(single.trajectory["distance"], result.trajectory["distance"], rtol=1e-5, atol=1e-6)))

# %% [markdown]
# ## Takeaways
#
# * A new rule is an optax transformation of a few lines; anything that wraps
#   `inner.update(field, state, params, **extra)` composes with every rule, optimizer and
#   projection of minimax and optax.
# * `spectral_radius`/`update_map_jacobian` differentiate your code, so a closed form from the
#   paper is a one-line test of the implementation (for rules with a period, take the map of a
#   whole period with `steps=k`).
# * `train.sweep` turns a grid of hyperparameters × seeds into one compiled program, and spreads
#   its runs over every accelerator (or CPU device) you have.
