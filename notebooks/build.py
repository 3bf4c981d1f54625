"""Writes the tutorial notebooks of this folder (nbformat v4, no outputs stored).

    python notebooks/build.py            # (re)write every notebook
    python notebooks/build.py --check    # exit 1 when a notebook differs from what this script writes

The cells live here, in :data:`NOTEBOOKS`; edit them here and rerun the script rather than
editing the ``.ipynb`` files by hand (``tests/test_notebooks.py`` checks that the two agree,
that no outputs are stored, and executes every notebook with ``MINIMAX_QUICK=1``).

Every notebook starts with the same setup cell: on Colab it installs minimax from
:data:`REPO_URL`, it prints ``jax.devices()``, and it sets ``QUICK`` (small sizes) from the
environment variable ``MINIMAX_QUICK`` (``1``/``0``) or, when unset, from the backend
(QUICK on CPU, full size on a GPU or TPU). Every size in a notebook derives from ``QUICK``.
"""
from __future__ import annotations

import argparse
import pathlib
import sys
import textwrap

import nbformat

HERE = pathlib.Path(__file__).resolve().parent

#: The Git URL Colab installs minimax from (``pip install "git+<REPO_URL>"``). Point it at the
#: repository (or your fork) and rerun this script.
REPO_URL = "https://github.com/OWNER/minimax.git"


def md(text: str):
    return ("markdown", textwrap.dedent(text).strip("\n"))


def code(text: str):
    return ("code", textwrap.dedent(text).strip("\n"))


def setup(before_jax: str = "") -> tuple:
    """The first code cell of every notebook; ``before_jax`` runs just before ``import jax``."""
    text = textwrap.dedent('''
        # Setup: install minimax on Colab, show the devices, choose the problem size.
        import os
        import sys

        MINIMAX_REPO_URL = "__REPO_URL__"  # the minimax Git repository (or your fork)

        if "google.colab" in sys.modules:  # running on Colab: install minimax from the repository
            import subprocess
            if "OWNER" in MINIMAX_REPO_URL:
                raise RuntimeError("set MINIMAX_REPO_URL above to the minimax repository's Git URL")
            subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"git+{MINIMAX_REPO_URL}"], check=True)

        __BEFORE_JAX__import jax

        print("JAX", jax.__version__, "devices:", jax.devices())
        # QUICK: small sizes (CI, CPU). MINIMAX_QUICK=1 / 0 forces it; otherwise QUICK on CPU, full size on GPU/TPU.
        _quick_env = os.environ.get("MINIMAX_QUICK", "").strip()
        QUICK = _quick_env == "1" if _quick_env in ("0", "1") else jax.default_backend() == "cpu"
        print("QUICK =", QUICK, "(small sizes)" if QUICK else "(full sizes)")

        %matplotlib inline
        ''').strip("\n")
    before = textwrap.dedent(before_jax).strip("\n") + "\n\n" if before_jax else ""
    return ("code", text.replace("__REPO_URL__", REPO_URL).replace("__BEFORE_JAX__", before))


# ============================================================================ 01 Dirac GAN

DIRAC = [
    md(r"""
    # Dirac GAN dynamics: five update rules, three distances

    The Dirac GAN (Mescheder, Geiger & Nowozin, ICML 2018) is the smallest GAN there is: the data
    is ν = δ₀, the generator is μ_θ = δ_θ (one number θ) and the critic is linear, f_w(x) = w·x
    (one number w). Every trajectory can be drawn, and it already shows why simultaneous gradient
    descent–ascent fails and what repairs it. This notebook

    1. draws the descent field of the Jensen–Shannon, Wasserstein and zero-infinity Dirac GANs;
    2. runs GDA, alternating GDA, extragradient (EG), two-timescale EG and optimistic GDA (OGDA)
       from many initial points — every distance, rule and seed in **one** compiled program;
    3. linearizes each rule at the equilibrium and compares the eigenvalues and spectral radius
       obtained by differentiating the code with their closed forms, as the step size η grows.

    **Runtime.** __RUNTIME_DIRAC__
    """),
    setup(),
    md(r"""
    ## 1. The game and its descent field

    With a loss l, the Dirac GAN is

    $$\min_\theta \max_{w \in \mathcal W}\; L(\theta, w) = -l(f_w(0)) - l(-f_w(\theta)) = -l(0) - l(-w\theta).$$

    | distance | l(t) | critic set 𝒲 | s = \|l′(0)\| |
    |---|---|---|---|
    | Jensen–Shannon | log(1 + e^{−t}) | ℝ | 1/2 |
    | Wasserstein | −t | \|w\| ≤ 1 | 1 |
    | zero-infinity | −t | ℝ | 1 |

    minimax keeps both players in one pytree, `Players(min=θ, max=w)`, and works with the
    **descent field** F(p) = (∂_θ L, −∂_w L), each player's gradient of the loss it minimizes.
    Here F(θ, w) = l′(−wθ)·(w, −θ): near p* = (0, 0) it is a rotation,
    ∂F(p*) = s·[[0, −1], [1, 0]], with eigenvalues ±i·s and no real part at all.
    Following −F (what gradient steps do) circles around the equilibrium instead of reaching it.
    """),
    code(r"""
    import matplotlib.pyplot as plt
    import jax.numpy as jnp
    import numpy as np
    import optax

    from minimax import Players, field_eigenvalues, field_jacobian, train, update_map_jacobian, updates
    from minimax.games import dirac_gan, rotation_spectral_radius

    DISTANCES = ("js", "wasserstein", "zero_infinity")
    TITLES = {"js": "Jensen–Shannon", "wasserstein": "Wasserstein (|w| ≤ 1)", "zero_infinity": "zero-infinity"}
    games = {d: dirac_gan(d) for d in DISTANCES}  # Game records: loss, equilibrium, initial points, projection

    speed = {}  # s: the eigenvalues of ∂F(p*) are ±i·s
    for d, game in games.items():
        J = field_jacobian(game.field_fn(), game.equilibrium)
        eig = field_eigenvalues(game.field_fn(), game.equilibrium)
        speed[d] = float(jnp.max(jnp.abs(eig.imag)))
        print(f"{d:>14}: ∂F(p*) = {np.round(np.asarray(J), 3).tolist()}, eigenvalues {np.round(np.asarray(eig), 3)}")
    """),
    code(r"""
    grid = np.linspace(-2, 2, 17)
    T, W = np.meshgrid(grid, grid)
    points = Players(jnp.asarray(T.ravel(), jnp.float32), jnp.asarray(W.ravel(), jnp.float32))

    def draw_field(ax, d):
        F = jax.vmap(games[d].field_fn())(points)  # F at every grid point
        u, v = -np.asarray(F.min).reshape(T.shape), -np.asarray(F.max).reshape(T.shape)
        norm = np.hypot(u, v) + 1e-12
        ax.quiver(T, W, u / norm, v / norm, norm, cmap="Greys", clim=(-1, 2), scale=28, width=0.004)
        if games[d].projection is not None:  # the Wasserstein critic lives in |w| <= 1
            ax.axhspan(1, 2.2, color="0.92", zorder=0), ax.axhspan(-2.2, -1, color="0.92", zorder=0)
        ax.plot(0, 0, "k*", ms=9)
        ax.set(xlim=(-2, 2), ylim=(-2, 2), aspect="equal")

    fig, axes = plt.subplots(1, 3, figsize=(12, 4))
    for ax, d in zip(axes, DISTANCES):
        draw_field(ax, d)
        ax.set(title=f"{TITLES[d]}: the flow −F", xlabel="θ (generator)", ylabel="w (critic)")
    plt.tight_layout()
    plt.show()
    """),
    md(r"""
    ## 2. Five update rules, written as optax transformations

    Update rules consume F exactly as optax consumes gradients. Each wraps an *inner*
    transformation: `optax.sgd(η)` makes the step −η·u; `updates.two_timescale(τ)` multiplies the
    generator's part by 1/τ (Λ_τ = diag(I/τ, I)); for the Wasserstein game,
    `updates.project(P)` maps the step back onto |w| ≤ 1 (inside EG it projects both the
    extrapolated point and the update).

    | rule | one step | minimax |
    |---|---|---|
    | GDA | p⁺ = p − ηF(p) | `simultaneous(inner)` |
    | alternating GDA | w⁺ = w − ηF_w(θ, w), θ⁺ = θ − ηF_θ(θ, w⁺) | `alternating(inner)` |
    | EG | p⁺ = p − ηF(p − ηF(p)) | `extragradient(inner)` |
    | two-timescale EG | p⁺ = p − ηΛ_τF(p − ηΛ_τF(p)) | `extragradient(chain(two_timescale(τ), sgd(η)))` |
    | OGDA | p_{k+1} = p_k − 2ηF(p_k) + ηF(p_{k−1}) | `optimistic(inner)` |

    η and τ are traced values, so the same compiled program runs for any of them.
    """),
    code(r"""
    def make_rules(game, lr, tau):
        # name -> update rule for `game`, step size lr and (two-timescale EG only) timescale tau.
        def inner(timescale=1.0):
            parts = [updates.two_timescale(timescale), optax.sgd(lr)]
            if game.projection is not None:
                parts.append(updates.project(game.projection))
            return optax.chain(*parts)

        return {
            "GDA": updates.simultaneous(inner()),
            "alt-GDA": updates.alternating(inner()),
            "EG": updates.extragradient(inner()),
            "2ts-EG": updates.extragradient(inner(tau)),
            "OGDA": updates.optimistic(inner()),
        }

    RULES = tuple(make_rules(games["js"], 0.1, 1.0))
    LR, TAU = 0.2, 4.0
    SEEDS = 8 if QUICK else 64          # initial points, uniform in [-1, 1]^2
    STEPS = 300 if QUICK else 3000
    PLOT_STEPS = min(STEPS, 300)        # steps drawn in the phase portraits
    print(f"{len(DISTANCES)} distances × {len(RULES)} rules × {SEEDS} seeds × {STEPS} steps, η = {LR}, τ = {TAU}")
    """),
    md(r"""
    `train.run` scans the steps of one run and records metrics (here the point itself) every
    `record_every` steps. A Python loop over distances and rules *inside* one `jax.jit`, with a
    `vmap` over seeds, builds one program for everything: one compilation, then a single call.
    """),
    code(r"""
    @jax.jit
    def run_all(keys, lr, tau):
        out = {}
        for d in DISTANCES:
            game = games[d]
            for name, rule in make_rules(game, lr, tau).items():
                def one(key, game=game, rule=rule):
                    k_init, k_run = jax.random.split(key)
                    result = train.run(game, rule, game.sample_init(k_init), k_run, steps=STEPS, record_every=1,
                                       metrics=lambda p, _: {"theta": p.min, "w": p.max})
                    return result.trajectory, result.diverged
                out[d, name] = jax.vmap(one)(keys)
        return out

    keys = jax.random.split(jax.random.PRNGKey(0), SEEDS)
    runs = jax.device_get(run_all(keys, LR, TAU))  # {(distance, rule): (trajectory, diverged)}
    """),
    code(r"""
    fig, axes = plt.subplots(len(DISTANCES), len(RULES), figsize=(3 * len(RULES), 3 * len(DISTANCES)),
                             sharex=True, sharey=True)
    for i, d in enumerate(DISTANCES):
        for j, name in enumerate(RULES):
            ax = axes[i, j]
            draw_field(ax, d)
            traj, _ = runs[d, name]
            for s in range(min(3, SEEDS)):
                th, w = traj["theta"][s, : PLOT_STEPS + 1], traj["w"][s, : PLOT_STEPS + 1]
                ax.plot(th, w, lw=1.2)
                ax.plot(th[0], w[0], "o", ms=3, color=ax.lines[-1].get_color())
            ax.set_title(f"{name}", fontsize=10)
            if j == 0:
                ax.set_ylabel(f"{TITLES[d]}\nw (critic)")
            if i == len(DISTANCES) - 1:
                ax.set_xlabel("θ (generator)")
    fig.suptitle(f"first {PLOT_STEPS} steps from 3 initial points (η = {LR}, τ = {TAU} for 2ts-EG)")
    plt.tight_layout()
    plt.show()
    """),
    md(r"""
    Distance to the equilibrium ‖p_k − p*‖ over all seeds: the median and the min–max band. A
    seed whose parameters became non-finite would be flagged `diverged` and frozen, without
    touching the other seeds of the vmapped run.
    """),
    code(r"""
    steps = np.arange(STEPS + 1)
    fig, axes = plt.subplots(1, len(DISTANCES), figsize=(13, 3.8), sharey=True)
    for ax, d in zip(axes, DISTANCES):
        for name in RULES:
            traj, _ = runs[d, name]
            dist = np.hypot(traj["theta"], traj["w"])
            (line,) = ax.plot(steps, np.median(dist, 0), label=name, lw=1.4)
            ax.fill_between(steps, dist.min(0), dist.max(0), color=line.get_color(), alpha=0.15)
        ax.set(yscale="log", title=TITLES[d], xlabel="step k", ylim=(1e-6, 1e3))
    axes[0].set_ylabel("‖p_k − p*‖")
    axes[0].legend(fontsize=8)
    plt.tight_layout()
    plt.show()

    print(f"{'distance':>14} {'rule':>8} {'median ‖p_T‖':>13} {'converged':>10} {'diverged':>9}")
    for d in DISTANCES:
        for name in RULES:
            traj, diverged = runs[d, name]
            final = np.hypot(traj["theta"][:, -1], traj["w"][:, -1])
            print(f"{d:>14} {name:>8} {np.median(final):13.2e} {int(np.sum(final < 1e-3)):>6}/{SEEDS:<3} "
                  f"{int(np.sum(diverged)):>6}/{SEEDS}")
    """),
    md(r"""
    ## 3. Linearization: eigenvalues and spectral radius against η

    Near p* each rule is a map p_{k+1} = T(p_k) with T(p*) = p*, and it converges locally iff the
    spectral radius ρ(∂T(p*)) < 1. `update_map_jacobian(rule, field_fn, p*)` obtains ∂T by
    differentiating one step of the rule itself (`jax.jacfwd` through the optax code), so it
    needs no formula and holds for any composition; for a rule with memory (OGDA keeps
    F(p_{k−1})) T acts on the parameters and the floating-point state together.
    `spectral_radius` is max |eig ∂T|.

    With the rotation ∂F(p*) (eigenvalues ±i·s) and h = ηs/√τ (τ = 1 except for two-timescale EG):

    * GDA: eigenvalues 1 ∓ ih, so ρ = √(1 + h²) > 1 — every step spirals outwards;
    * EG: 1 − h² ∓ ih, so ρ = √(1 − h² + h⁴) < 1 for 0 < h < 1;
    * alternating GDA: det ∂T = 1 with a complex pair for h < 2, so ρ = 1 — it cycles forever;
    * OGDA: the roots of λ² − (1 − 2ih)λ − ih = 0 (and their conjugates), from p_{k+1} = p_k − 2ηF(p_k) + ηF(p_{k−1});
    * two-timescale EG: the EG formula with h = ηs/√τ — on this game τ > 1 only slows the generator.

    In float32 the two agree to about 1e-7, and to about 1e-4 for OGDA near the step size where
    two of its eigenvalues meet (a double eigenvalue is sensitive to rounding).
    """),
    code(r"""
    ETAS = np.linspace(0.02, 2.0, 25 if QUICK else 100)
    LINEARIZE = ("js", "zero_infinity")  # Wasserstein = zero-infinity near p* (the projection is inactive there)

    @jax.jit
    @jax.vmap
    def linearize(lr):
        eig = {}
        for d in LINEARIZE:
            game = games[d]
            for name, rule in make_rules(game, lr, TAU).items():
                eig[d, name] = jnp.linalg.eigvals(update_map_jacobian(rule, game.field_fn(), game.equilibrium))
        return eig

    eigs = jax.device_get(linearize(jnp.asarray(ETAS, jnp.float32)))
    radius = {k: np.max(np.abs(v), axis=-1) for k, v in eigs.items()}

    def ogda_radius(h):  # largest root of λ² − (1 − 2ih)λ − ih
        return np.array([np.max(np.abs(np.roots([1, -(1 - 2j * x), -1j * x]))) for x in np.atleast_1d(h)])

    def closed_form(name, h, tau):
        if name == "OGDA":
            return ogda_radius(h)
        if name == "2ts-EG":
            return np.asarray(rotation_spectral_radius("eg", h / np.sqrt(tau)))
        return np.asarray(rotation_spectral_radius({"GDA": "gda", "EG": "eg", "alt-GDA": "alt_gda"}[name], h))

    for d in LINEARIZE:
        h = ETAS * speed[d]
        errors = {name: np.nanmax(np.abs(radius[d, name] - closed_form(name, h, TAU))) for name in RULES}
        print(f"{d:>14}: max |ρ(code) − ρ(closed form)| over η:", {k: f"{v:.1e}" for k, v in errors.items()})
    """),
    code(r"""
    fig, axes = plt.subplots(1, len(LINEARIZE) + 1, figsize=(15, 4.2))
    for ax, d in zip(axes, LINEARIZE):
        h = ETAS * speed[d]
        for name in RULES:
            (line,) = ax.plot(ETAS, closed_form(name, h, TAU), lw=1.2, label=f"{name} closed form")
            ax.plot(ETAS, radius[d, name], "o", ms=3, color=line.get_color())
        ax.axhline(1, color="k", lw=0.8, ls=":")
        ax.set(title=f"{TITLES[d]} (s = {speed[d]:g}): lines closed form, dots code", xlabel="step size η",
               ylabel="spectral radius ρ(∂T(p*))", ylim=(0.4, 2.0))
    axes[0].legend(fontsize=7)

    ax = axes[-1]  # eigenvalue loci of the zero-infinity rules as η grows
    circle = np.exp(1j * np.linspace(0, 2 * np.pi, 200))
    ax.plot(circle.real, circle.imag, "k", lw=0.8)
    for name in ("GDA", "EG", "OGDA", "alt-GDA"):
        e = eigs["zero_infinity", name]
        ax.scatter(e.real.ravel(), e.imag.ravel(), s=6, label=name)
    ax.set(aspect="equal", xlim=(-1.6, 1.8), ylim=(-1.7, 1.7), title="eigenvalues of ∂T(p*), zero-infinity, η ∈ [0.02, 2]",
           xlabel="Re", ylabel="Im")
    ax.legend(fontsize=8, markerscale=2)
    plt.tight_layout()
    plt.show()
    """),
    md(r"""
    ## Takeaways

    * The Dirac GAN's field is a pure rotation at the equilibrium, for every distance. Simultaneous
      GDA spirals outwards (ρ > 1 for every η), alternating GDA cycles (ρ = 1), while EG and OGDA
      contract for small enough η.
    * Wasserstein's constraint |w| ≤ 1 only bounds the critic: far from p* GDA is trapped on a cycle
      instead of diverging, but it still does not converge. Zero-infinity — the same linear loss with
      no constraint — converges under EG exactly like Wasserstein near p*.
    * The Jensen–Shannon game turns twice as slowly (s = 1/2), so a given η corresponds to half the h
      and its rules converge (or diverge) more slowly.
    * `update_map_jacobian`/`spectral_radius` differentiate the rule's own code, so the same check
      works for any rule you compose (see `04_composing_a_solver.ipynb`).
    """),
]


# ============================================================================ 02 distances

DISTANCE = [
    md(r"""
    # Choosing a distance: f-divergences, WGAN-GP, LSGAN, MMD and zero-infinity

    A GAN minimizes a statistical distance D(data, model) written as a game: a critic (the max
    player) estimates the distance from samples, the generator (the min player) moves to reduce
    the estimate. minimax makes the distance a swappable record (`losses.Distance`), so this
    notebook

    1. checks the variational principle behind the f-GAN family against closed forms: a trained
       critic's bound E_P[T] − E_Q[f*(T)] approaches D_f(P‖Q) from below, and the optimal
       discriminator of the original GAN is D* = p/(p + q);
    2. trains the same generator on a ring of 8 Gaussians with ten distances — five f-GANs, the
       non-saturating GAN, WGAN-GP, LSGAN, zero-infinity and the discriminator-free MMD — over many
       seeds, and compares mode coverage with seed bands. All critic distances run in **one**
       compiled program: the distance is an index into a table (`lax.switch`).

    **Runtime.** __RUNTIME_DISTANCE__
    """),
    setup(),
    md(r"""
    ## 1. The variational bound of an f-divergence

    For a convex f with f(1) = 0, D_f(P‖Q) = E_Q[f(p/q)], and by Fenchel duality

    $$D_f(P\|Q) = \sup_T\; \mathbb E_P[T(x)] - \mathbb E_Q[f^*(T(x))], \qquad f^*(t) = \sup_u\, tu - f(u),$$

    attained at T*(x) = f′(p(x)/q(x)). A critic with raw output v is mapped into the domain of
    f* by an activation, T = g_f(v); every critic then gives a **lower bound**, which the f-GAN
    critic maximizes. `losses.FDIVERGENCES` holds the table (f, f*, g_f, f′(1)) and
    `losses.references` closed forms. On a finite set of atoms the expectations are exact sums and
    a *tabular* critic (one v per atom) can reach the supremum, so the trained bound must match
    the closed form.
    """),
    code(r"""
    import math
    from functools import partial

    import matplotlib.pyplot as plt
    import jax.numpy as jnp
    import numpy as np
    import optax
    from jax import lax

    from minimax import metrics, train, updates
    from minimax.data import ring8
    from minimax.games import gan_game, init_players, normal_latent
    from minimax.losses import DISTANCES, FDIVERGENCES, Distance, references as ref
    from minimax.losses.sample_distances import gaussian_kernel, mmd2
    from minimax.models import MLPCritic, MLPGenerator

    atoms = np.arange(12)
    P = np.exp(-0.5 * ((atoms - 4.0) / 1.5) ** 2) + 0.01; P /= P.sum()     # data
    Q = np.exp(-0.5 * ((atoms - 7.0) / 2.5) ** 2) + 0.01; Q /= Q.sum()     # model
    P, Q = jnp.asarray(P, jnp.float32), jnp.asarray(Q, jnp.float32)

    # D_f(P‖Q) in closed form, for every entry of the f-GAN table
    CLOSED_FORM = {
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

    BOUND_STEPS = 2000  # cheap at any size

    @jax.jit
    def train_critics():
        # Gradient ascent (Adam) on the bound of every divergence from v = 0; the bound every 10 steps.
        out = {}
        for name, fdiv in FDIVERGENCES.items():
            opt = optax.adam(0.1)
            def step(carry, _, fdiv=fdiv, opt=opt):
                v, state = carry
                value, grad = jax.value_and_grad(lambda v: -bound(fdiv, v))(v)
                updates_, state = opt.update(grad, state)
                return (optax.apply_updates(v, updates_), state), -value
            v0 = jnp.zeros_like(P)
            (v, _), curve = lax.scan(step, (v0, opt.init(v0)), None, length=BOUND_STEPS)
            out[name] = {"v": v, "curve": curve[::10], "final": bound(fdiv, v), "optimum": bound_at_optimum(fdiv),
                         "closed": CLOSED_FORM[name](P, Q)}
        return out

    critics = jax.device_get(train_critics())
    print(f"{'f-divergence':>12} {'closed form':>12} {'bound at T*':>12} {'trained bound':>14}")
    for name, r in critics.items():
        print(f"{name:>12} {r['closed']:12.5f} {r['optimum']:12.5f} {r['final']:14.5f}")
    """),
    code(r"""
    fig, axes = plt.subplots(1, 2, figsize=(13, 4))
    ax = axes[0]
    ax.bar(atoms - 0.2, P, 0.4, label="P (data)")
    ax.bar(atoms + 0.2, Q, 0.4, label="Q (model)")
    ax.set(title="two distributions on 12 atoms", xlabel="atom")
    ax.legend()
    ax = axes[1]
    for name, r in critics.items():
        gap = r["closed"] - r["curve"]  # >= 0: every critic gives a lower bound
        ax.plot(np.arange(len(r["curve"])) * 10, np.maximum(gap / abs(r["closed"]), 1e-7), label=name, lw=1.2)
    ax.set(yscale="log", ylim=(1e-7, 2), xlabel="Adam step", ylabel="(D_f − bound) / |D_f|",
           title="the critic's bound closes the gap to D_f(P‖Q) from below")
    ax.legend(fontsize=7, ncol=2)
    plt.tight_layout()
    plt.show()
    """),
    md(r"""
    ### The optimal discriminator

    The table's `gan` row is the original GAN: g_f(v) = log σ(v), so T = log D with D = σ(v), and
    the bound is V(G, D) = E_P[log D] + E_Q[log(1 − D)]. Its maximizer is D*(x) = p(x)/(p(x) + q(x))
    (Goodfellow et al. 2014, Prop. 1), where V = 2·JSD(P, Q) − log 4.
    """),
    code(r"""
    D_trained = jax.nn.sigmoid(critics["gan"]["v"])
    D_star = ref.optimal_discriminator(P, Q)
    print("V(G, D*)       =", float(ref.gan_value(P, Q, D_star)))
    print("2 JSD − log 4  =", float(2 * ref.jensen_shannon(P, Q) - math.log(4.0)))
    print("V(G, D_trained) =", float(ref.gan_value(P, Q, D_trained)))
    print("max |D_trained − D*| on atoms with mass:", float(jnp.max(jnp.abs(D_trained - D_star)[(P + Q) > 1e-3])))

    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    ax.plot(atoms, D_star, "k-", label="D* = p/(p+q)")
    ax.plot(atoms, D_trained, "o", label="trained σ(v)")
    ax.set(xlabel="atom", ylabel="D(x)", title="the original GAN's optimal discriminator")
    ax.legend()
    plt.show()
    """),
    md(r"""
    ## 2. Ten distances on a ring of 8 Gaussians

    Data: 8 Gaussians of standard deviation σ = 0.02 on a circle of radius 2 (`data.ring8`, Metz et
    al. 2017). Population risk: every step draws a fresh data batch and fresh latent codes. Models:
    an MLP generator z ∈ ℝ⁴ → ℝ² and an MLP critic (`models.MLPGenerator`, `models.MLPCritic`).

    | distance | critic minimizes | generator minimizes |
    |---|---|---|
    | f-GAN (KL, reverse KL, JS, Pearson χ², squared Hellinger) | −(E_data g_f(v) − E_model f*(g_f(v))) | E_data g_f(v) − E_model f*(g_f(v)) |
    | non-saturating (`ns`) | E softplus(−v(x)) + E softplus(v(G(z))) | E softplus(−v(G(z))) |
    | WGAN-GP | E v(G(z)) − E v(x) + 10·E(‖∇v(x̂)‖ − 1)² | −E v(G(z)) |
    | LSGAN | ½E(v(x) − 1)² + ½E v(G(z))² | ½E(v(G(z)) − 1)² |
    | zero-infinity | E v(G(z)) − E v(x), no constraint at all | −E v(G(z)) |
    | MMD² (no critic) | — | MMD²_k(data, G(z)), Gaussian kernels |

    **One program for all critic distances.** A `Distance` is data; `switch_distance(i, table)`
    below is again a `Distance` whose losses are `lax.switch(i, [...])` over the table. Mapping
    `lax.map` over i runs the distances one after the other inside one compiled program, and
    `train.sweep` vmaps seeds and learning rates inside each. Under `lax.map` the index is not
    batched, so `switch` executes only the selected branch (a vmapped index would evaluate all of
    them, and a NaN in one branch's gradient would leak into the others).

    Every distance uses the same solver, simultaneous GDA with Adam (β₁ = 0.5); the solver's part
    is the subject of notebooks 01, 03 and 04. Mode coverage (`metrics.mode_coverage`): a
    generated sample is high-quality when within 3σ of a center, and a mode is covered when it
    holds at least ⌈0.2·n/8⌉ of n = 512 samples drawn from fixed latent codes.
    """),
    code(r"""
    CRITIC_DISTANCES = ("fgan_kl", "fgan_reverse_kl", "fgan_js", "fgan_pearson", "fgan_hellinger",
                        "ns", "wgan_gp", "lsgan", "zero_infinity")
    ALL = CRITIC_DISTANCES + ("mmd",)

    mixture = ring8()
    SEEDS = 4 if QUICK else 8
    STEPS = 100 if QUICK else 3000
    RECORD = STEPS // (5 if QUICK else 25)
    WIDTH = 16 if QUICK else 64
    BATCH = 64 if QUICK else 128
    LRS = (1e-3,) if QUICK else (5e-4, 2e-3)
    LATENT, N_EVAL = 4, 512

    generator = MLPGenerator(data_shape=(2,), widths=(WIDTH, WIDTH))
    critic = MLPCritic(widths=(WIDTH, WIDTH))
    latent = normal_latent(BATCH, LATENT)
    data = partial(mixture.sample, n=BATCH)            # key -> fresh data batch
    z_eval = jax.random.normal(jax.random.PRNGKey(123), (N_EVAL, LATENT))
    hparams = train.hyperparameter_grid(lr=list(LRS))
    keys = jax.random.split(jax.random.PRNGKey(0), SEEDS)
    print(f"{len(ALL)} distances × {len(LRS)} learning rates × {SEEDS} seeds × {STEPS} steps, width {WIDTH}, batch {BATCH}")

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

    def coverage(params, key):
        cover = metrics.mode_coverage(generator.apply(params.min, z_eval), mixture)
        return {"modes": cover.modes_covered, "quality": cover.high_quality}

    def make_run_one(game, critic_module):
        def run_one(hp, key):
            k_init, k_run = jax.random.split(key)
            rule = updates.simultaneous(optax.adam(hp["lr"], b1=0.5))
            result = train.run(game, rule, init_players(generator, critic_module, k_init, latent), k_run,
                               steps=STEPS, record_every=RECORD, metrics=coverage)
            return result.trajectory, result.diverged, generator.apply(result.params.min, z_eval)
        return run_one

    def sweep_distance(index):
        table = [DISTANCES[name] for name in CRITIC_DISTANCES]
        game = gan_game(generator.apply, critic.apply, switch_distance(index, table), data, latent)
        return train.sweep(make_run_one(game, critic), hparams, keys)

    # all critic distances: one jit, lax.map over the distance index; outputs lead with (distance, lr, seed)
    critic_runs = jax.jit(lambda: lax.map(sweep_distance, jnp.arange(len(CRITIC_DISTANCES))))()

    # MMD² has no critic: the generator alone minimizes a sample distance (the critic player is ())
    kernel = gaussian_kernel(mixture.sigma * 2.0 ** np.arange(8))  # from the mode width to the ring's size
    mmd_game = gan_game(generator.apply, None, lambda real, fake, key: mmd2(real, fake, kernel), data, latent)
    mmd_run = train.sweep(make_run_one(mmd_game, None), hparams, keys)

    results = {name: jax.device_get(jax.tree_util.tree_map(lambda x: x[i], critic_runs))
               for i, name in enumerate(CRITIC_DISTANCES)}
    results["mmd"] = jax.device_get(mmd_run)
    """),
    code(r"""
    record_steps = np.arange(0, STEPS + 1, RECORD)
    print(f"{'distance':>16} {'lr':>7} {'modes covered (median, min–max)':>32} {'high-quality':>13} {'diverged':>9}")
    for name in ALL:
        trajectory, diverged, _ = results[name]
        for h, lr in enumerate(LRS):
            modes = trajectory["modes"][h, :, -1]
            print(f"{name:>16} {lr:7.0e} {np.median(modes):>20.1f} ({modes.min()}–{modes.max()})"
                  f"{np.median(trajectory['quality'][h, :, -1]):>15.2f} {int(diverged[h].sum()):>6}/{SEEDS}")

    fig, axes = plt.subplots(2, 5, figsize=(16, 6), sharex=True, sharey=True)
    for ax, name in zip(axes.ravel(), ALL):
        trajectory, _, _ = results[name]
        for h, lr in enumerate(LRS):
            modes = trajectory["modes"][h].astype(float)
            (line,) = ax.plot(record_steps, np.median(modes, 0), label=f"η = {lr:g}")
            ax.fill_between(record_steps, modes.min(0), modes.max(0), color=line.get_color(), alpha=0.2)
        ax.set(title=name, ylim=(-0.3, 8.3))
    for ax in axes[1]:
        ax.set_xlabel("step")
    for ax in axes[:, 0]:
        ax.set_ylabel("modes covered (of 8)")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle(f"modes covered along training: median and min–max over {SEEDS} seeds")
    plt.tight_layout()
    plt.show()
    """),
    code(r"""
    real = mixture.sample(jax.random.PRNGKey(7), 512)
    best = len(LRS) - 1
    fig, axes = plt.subplots(2, 5, figsize=(16, 6.6), sharex=True, sharey=True)
    for ax, name in zip(axes.ravel(), ALL):
        samples = results[name][2][best, 0]
        ax.scatter(real[:, 0], real[:, 1], s=3, color="0.75")
        ax.scatter(samples[:, 0], samples[:, 1], s=3)
        ax.set(title=name, xlim=(-3, 3), ylim=(-3, 3), aspect="equal")
    fig.suptitle(f"final samples of seed 0 (η = {LRS[best]:g}, blue) over data (grey)")
    plt.tight_layout()
    plt.show()
    """),
    md(r"""
    ## Takeaways

    * The variational bound is a lower bound for every critic and is tight at T* = f′(p/q): with a
      critic rich enough to represent T*, maximizing it recovers the closed-form divergence. This
      is what the f-GAN critic does with samples and a network instead of exact sums.
    * On the ring the same generator, solver and budget give very different coverage depending on
      the distance alone, and the ranking changes with the step size. Read the seed bands, not a
      single run: the spread between seeds is often as large as the differences between distances.
      In our full-size CPU run (JAX 0.10.2, 8 seeds, 3000 steps) the non-saturating GAN, the f-GAN
      JS and reverse-KL critics, LSGAN and MMD covered 4.5–5.5 of 8 modes (median) at η = 2·10⁻³;
      KL, Pearson and Hellinger covered almost none (Hellinger diverged in 5 of 8 seeds); WGAN-GP
      and zero-infinity covered none. Both use the linear critic loss l(t) = −t and are meant for
      other solvers — several critic steps per generator step (WGAN-GP) or extragradient
      (zero-infinity, notebooks 01 and 03) — not simultaneous GDA.
    * The distance is data: building the game from a `Distance` record (or a discriminator-free
      objective) is the only line that changes, and a table of distances fits in one compiled
      program.
    """),
]

# ============================================================================ 03 memorization

MEMORIZATION = [
    md(r"""
    # Memorization of 32 MNIST digits: which GAN reaches a global solution?

    Train a generator on n = 32 digits x₁..x₃₂ with a *fixed* set of 32 latent codes ẑ₁..ẑ₃₂,
    full batch. This is the empirical risk

    $$\tilde{\mathcal R}(\theta) = \mathcal D\big(\hat\nu, (G_\theta)_\#\hat\xi\big), \qquad
    \hat\nu = \tfrac1n\textstyle\sum_i \delta_{x_i},\quad \hat\xi = \tfrac1n\sum_j \delta_{\hat z_j},$$

    whose global minimizers map the codes one-to-one onto the digits: a global solution
    *memorizes* the training set. Whether training gets there is a test of the distance and the
    update rule, not of generalization (Chae, Kim & Kim, ICML HiLD workshop 2025; Lee, "Zero-Infinity
    GAN", NeurIPS OPT workshop 2025). This notebook

    1. runs the GAN experiment of `minimax mnist32` — Jensen–Shannon or zero-infinity distance,
       GDA or extragradient, τ ∈ {1, 5} — reusing `minimax.experiments.mnist32`, and shows the
       samples of each configuration and the memorized fraction along training with seed bands;
    2. runs the critic-free reference of `minimax w2`: regression on the W2 bound with an
       optimal-transport coupling computed by `minimax.ot` (exact assignment or ott-jax Sinkhorn).

    **Runtime.** __RUNTIME_MEMORIZATION__
    """),
    setup(),
    md(r"""
    ## 1. The data, the codes and the memorization metric

    The 32 digits are the first 32 images of the MNIST test split shipped with minimax, pixels in
    [0, 1]. A digit x_i counts as *memorized* when, under the optimal one-to-one matching σ of the
    32 generated digits to the 32 training digits (`minimax.ot.assignment`, Hungarian algorithm),
    its match is within 0.1 of it on every pixel (`metrics.memorization`).
    """),
    code(r"""
    import argparse
    import math

    import matplotlib.pyplot as plt
    import numpy as np

    from minimax import ot, train
    from minimax.data import mnist32
    from minimax.models import MLPGenerator
    from minimax.experiments import mnist32 as gan_experiment
    from minimax.experiments import w2 as w2_experiment
    from minimax.plots import mosaic

    data, labels = mnist32(scale="unit")  # (32, 784) in [0, 1]
    print("training digits:", data.shape, "labels:", np.asarray(labels).tolist())

    def show(ax, images, title, cols=16):
        ax.imshow(mosaic(images, (28, 28), cols), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.axis("off")

    fig, ax = plt.subplots(figsize=(9, 1.5))
    show(ax, data, "the 32 training digits")
    plt.show()
    """),
    md(r"""
    ## 2. GANs on the empirical risk

    The configurations of the talk (shared reference 000): distance ∈ {Jensen–Shannon, zero-infinity}
    × rule ∈ {GDA, EG} × τ ∈ {1, 5}, where the inner step is the optimizer (SGD(η) by default) then
    Λ_τ — so `eg` with τ = 5 is two-timescale EG p⁺ = p − ηΛ_τF(p − ηΛ_τF(p)). The settings are those of the `minimax mnist32`
    command, read from its argument parser (`--quick` under QUICK): MLP generator ẑ → 784
    (sigmoid output) and MLP critic, both of hidden width `width`.

    `gan_experiment.run_configuration(distance, method, grid, keys, ...)` runs one (distance, rule)
    over the whole (η, τ) grid and all seeds in one jit (`train.sweep`), recording the memorized
    fraction and the mean matched distance every `record_every` steps. Under QUICK only the
    zero-infinity + EG configuration runs (each configuration is its own compiled program).
    """),
    code(r"""
    parser = argparse.ArgumentParser()
    gan_experiment.add_arguments(parser)
    cfg = parser.parse_args(["--quick"] if QUICK else [])
    gan_experiment.validate(cfg)  # fills seeds, steps, width from the experiment's QUICK/DEFAULTS
    CONFIGS = [("zero_infinity", "eg")] if QUICK else [(d, m) for d in cfg.distances for m in cfg.methods]
    record_every = math.gcd(cfg.steps, max(1, cfg.steps // 50))
    record_steps = np.arange(0, cfg.steps + 1, record_every)
    print({k: v for k, v in vars(cfg).items() if k not in ("out", "quick")}, "configurations:", CONFIGS)

    k_latent, k_seeds = jax.random.split(jax.random.PRNGKey(cfg.seed))
    latents = jax.random.normal(k_latent, (data.shape[0], cfg.latent_dim))  # the fixed codes ẑ
    keys = jax.random.split(k_seeds, cfg.seeds)
    grid = train.hyperparameter_grid(lr=cfg.lr, tau=cfg.tau)

    gan_runs = {}
    for distance, method in CONFIGS:
        trajectory, diverged, samples = gan_experiment.run_configuration(
            distance, method, grid, keys, data=data, latents=latents, optimizer=cfg.optimizer, steps=cfg.steps,
            record_every=record_every, width=cfg.width)
        gan_runs[distance, method] = jax.device_get((trajectory, diverged, samples))
    """),
    code(r"""
    SHORT = {"js": "JS", "zero_infinity": "ZI"}
    rows = [(d, m, h) for d, m in CONFIGS for h in range(len(grid["tau"]))]

    def label(d, m, h):
        return f"{SHORT.get(d, d)}-{m.upper()} (τ={float(grid['tau'][h]):g}, η={float(grid['lr'][h]):g})"

    print(f"{'configuration':>34} {'memorized (mean, min–max)':>26} {'matched distance':>17} {'diverged':>9}")
    for d, m, h in rows:
        trajectory, diverged, _ = gan_runs[d, m]
        frac = trajectory["memorized_fraction"][h, :, -1]
        dist = trajectory["mean_matched_distance"][h, :, -1]
        print(f"{label(d, m, h):>34} {frac.mean():>13.2f} ({frac.min():.2f}–{frac.max():.2f}) {dist.mean():>14.2f}"
              f" {int(diverged[h].sum()):>6}/{cfg.seeds}")

    fig, axes = plt.subplots(len(rows), 1, figsize=(9, 1.35 * len(rows) + 0.3), squeeze=False)
    for ax, (d, m, h) in zip(axes[:, 0], rows):
        show(ax, gan_runs[d, m][2][h, 0], f"{label(d, m, h)}: G(ẑ) matched to the training digits, seed 0")
    plt.tight_layout()
    plt.show()

    fig, axes = plt.subplots(1, 2, figsize=(13, 3.8))
    for d, m, h in rows:
        trajectory = gan_runs[d, m][0]
        for ax, key in zip(axes, ("memorized_fraction", "mean_matched_distance")):
            values = trajectory[key][h]
            (line,) = ax.plot(record_steps, np.median(values, 0), label=label(d, m, h))
            ax.fill_between(record_steps, values.min(0), values.max(0), color=line.get_color(), alpha=0.2)
    axes[0].set(xlabel="step", ylabel="memorized fraction", ylim=(-0.03, 1.03),
                title=f"memorized fraction (median, min–max over {cfg.seeds} seeds)")
    axes[1].set(xlabel="step", ylabel="mean ‖x_i − G(ẑ_σ(i))‖", title="mean matched distance")
    axes[0].legend(fontsize=7)
    plt.tight_layout()
    plt.show()
    """),
    md(r"""
    ## 3. The reference: regression on the W2 bound

    For **any** coupling α between the digits and the codes,

    $$W_2^2\big(\hat\nu, (G_\theta)_\#\hat\xi\big) \;\le\; \sum_{i,j} \alpha_{ij}\, \|x_i - G_\theta(\hat z_j)\|^2,$$

    and once α is fixed the right side is a plain regression of G_θ(ẑ_j) onto targets. With
    uniform weights on two sets of 32 points an optimal coupling is a permutation (Birkhoff–von
    Neumann): `ot.assignment` finds it exactly (Hungarian algorithm, jittable). `ot.sinkhorn` gives
    the entropic coupling of ott-jax, a dense plan that tends to the permutation as ε → 0. Below,
    both couplings between the digits and the generator's initial outputs G_θ₀(ẑ). At θ₀ the
    costs ‖x_i − G_θ₀(ẑ_j)‖² vary mostly with the digit i (which the marginal constraints absorb)
    and little with j, so the entropic plan is diffuse; this is why the experiment recomputes it
    as the generator moves.
    """),
    code(r"""
    parser = argparse.ArgumentParser()
    w2_experiment.add_arguments(parser)
    w2_cfg = parser.parse_args(["--quick"] if QUICK else [])
    w2_experiment.validate(w2_cfg)
    COUPLINGS = ("exact",) if QUICK else tuple(w2_cfg.couplings)
    print({k: v for k, v in vars(w2_cfg).items() if k not in ("out", "quick")}, "couplings:", COUPLINGS)

    # the couplings at initialization, for one generator of the experiment's architecture
    generator = MLPGenerator(data_shape=(784,), widths=(w2_cfg.width,))
    z0 = jax.random.normal(jax.random.PRNGKey(1), (32, w2_cfg.latent_dim))
    g0 = generator.apply(generator.init(jax.random.PRNGKey(2), z0), z0)
    exact = ot.assignment(data, g0)
    entropic = ot.sinkhorn(data, g0, epsilon=0.01, relative_epsilon=True)
    print(f"exact W2² = {float(exact.cost):.3f};  Sinkhorn plan: cost {float(entropic.cost):.3f}, "
          f"{int(entropic.iterations)} iterations, marginal error {float(entropic.marginal_error):.1e}")

    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    for ax, plan, title in ((axes[0], ot.permutation_plan(exact.perm), "exact: a permutation"),
                            (axes[1], entropic.plan, "Sinkhorn, ε = 0.01 × mean cost")):
        ax.imshow(np.asarray(plan) * 32, cmap="Blues", vmin=0, vmax=1)
        ax.set(title=title, xlabel="generated G_θ₀(ẑ_j)", ylabel="digit x_i")
    plt.tight_layout()
    plt.show()
    """),
    md(r"""
    `w2_experiment.run_coupling` trains one generator per seed (vmapped) on the bound with Adam:
    the exact coupling is computed once at θ₀ (pure regression), the Sinkhorn coupling is
    recomputed every 10 steps and regressed on through its barycentric targets. Under QUICK only
    the exact coupling runs.
    """),
    code(r"""
    w2_runs = {}
    w2_record = math.gcd(w2_cfg.steps, max(1, w2_cfg.steps // 100))
    w2_keys = jax.random.split(jax.random.PRNGKey(w2_cfg.seed), w2_cfg.seeds)
    for coupling in COUPLINGS:
        trajectory, memorization, samples = w2_experiment.run_coupling(
            coupling, data, w2_keys, steps=w2_cfg.steps, lr=w2_cfg.lr, latent_dim=w2_cfg.latent_dim,
            width=w2_cfg.width, epsilon=w2_cfg.epsilon,
            recompute_every=w2_experiment.recompute_period(coupling, w2_cfg.recompute_every), record_every=w2_record)
        w2_runs[coupling] = jax.device_get((trajectory, memorization, samples))

    fig, axes = plt.subplots(1, 2, figsize=(13, 3.8), gridspec_kw={"width_ratios": [1, 1.4]})
    for coupling, (trajectory, memorization, _) in w2_runs.items():
        for key, ls in (("w2_bound", "-"), ("w2_exact", ":")):
            values = np.maximum(trajectory[key], 1e-8)
            (line,) = axes[0].plot(trajectory["step"][0], np.median(values, 0), ls=ls, label=f"{coupling}: {key}")
        print(f"{coupling:>9}: memorized fraction per seed {np.round(memorization.fraction, 2).tolist()}, "
              f"mean matched distance {np.round(memorization.mean_distance, 3).tolist()}")
    axes[0].set(yscale="log", xlabel="Adam step", ylabel="W2²",
                title="the bound Σα‖x − G(ẑ)‖² (solid) and exact W2² (dotted)")
    axes[0].legend(fontsize=8)
    trajectory, memorization, samples = w2_runs[COUPLINGS[0]]
    show(axes[1], np.asarray(samples[0])[np.asarray(memorization.perm[0])],
         f"{COUPLINGS[0]} coupling: G(ẑ) matched to each training digit, seed 0")
    plt.tight_layout()
    plt.show()
    """),
    md(r"""
    ## Takeaways

    * Memorizing 32 digits is the *global* solution of the empirical risk R̃; the W2 regression
      reaches it by construction (a regression onto 32 targets with an over-parameterized MLP),
      which makes it the reference against which the GAN configurations are read.
    * Whether a GAN gets there depends on the distance *and* the update rule: compare the
      memorized fraction across configurations, seeds and τ, not a single run. At QUICK size the
      GAN runs are far too short to memorize anything (the W2 regression already does); run the
      full size (`QUICK = False`) to compare.
    * In our full-size CPU run with the `minimax mnist32` defaults at the time of writing (SGD,
      η = 10⁻⁴, 10 000 steps, width 128, 4 seeds; JAX 0.10.2) no GAN configuration memorized a
      single digit: the Jensen–Shannon runs still produced noise, the zero-infinity runs collapsed
      to one blurry template, and zero-infinity with τ = 5 was flagged diverged in every seed. The W2
      regression memorized all 32 digits in every seed, with either coupling. The settings come from
      the experiment's parser, so this notebook follows any change of its defaults.
    """),
]

# ============================================================================ 04 composing a solver

SOLVER = [
    md(r"""
    # Composing your own min–max solver

    minimax's update rules are optax transformations that consume the descent field F instead of a
    gradient. So a new solver is either a **composition** of existing pieces (rules, optax
    optimizers, projections, timescales, averaging) or a **new transformation** of a few lines.
    This notebook

    1. composes two-timescale Extra-Adam with a running average of the iterates;
    2. writes a new rule, *Lookahead*, as a small optax transformation that wraps any rule;
    3. checks it against theory: its spectral radius on the bilinear game, computed by
       differentiating the code, against the closed form;
    4. sweeps it over step sizes, Lookahead rates and seeds in **one** `jit` with `train.sweep`;
    5. shards the seed axis over all available devices (`train.shard_seeds`, `sweep(devices=...)`).
       On a CPU the setup cell splits the host into 4 XLA devices so that sharding is exercised
       everywhere; on a GPU/TPU runtime the accelerators are used.

    **Runtime.** __RUNTIME_SOLVER__
    """),
    setup(r"""
    # Expose the CPU as 4 XLA devices (ignored by GPU/TPU backends); must happen before JAX starts.
    if "xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4").strip()
    """),
    md(r"""
    ## 1. Anatomy of a rule, and a composition

    A rule is an `optax.GradientTransformationExtraArgs`: `init(params) -> state` and
    `update(field, state, params, *, field_fn=...) -> (updates, state)`, where `field` is F(p_k)
    and `field_fn` evaluates F elsewhere (extragradient's extrapolation, alternating GDA's second
    player). Because the field plays the role of a gradient, optax pieces compose unchanged. Here:
    two-timescale Extra-Adam, with a uniform average of the iterates,

    $$\tilde p_k = p_k + \Lambda_\tau\,\mathrm{Adam}(F(p_k)),\quad p_{k+1} = p_k + \Lambda_\tau\,\mathrm{Adam}(F(\tilde p_k)),
    \quad \bar p_{k+1} = \bar p_k + \tfrac{1}{k+1}(p_{k+1} - \bar p_k).$$

    Λ_τ = diag(I/τ, I) comes *after* Adam in the chain: Adam divides each coordinate by its own
    running scale, so a scaling placed before it would cancel (`updates.timescaled` builds the chain
    optimizer → Λ_τ). `averaging` leaves the iterates
    unchanged and keeps p̄ in its state; `train.run` evaluates metrics at p̄.

    The test game is the bilinear game L(x, y) = x·y (`games.bilinear()`, equilibrium p* = 0),
    whose field F = (y, −x) is a pure rotation: the hardest case for GDA.
    """),
    code(r"""
    from typing import NamedTuple

    import matplotlib.pyplot as plt
    import jax.numpy as jnp
    import numpy as np
    import optax

    from minimax import Players, spectral_radius, train, update_map_jacobian, updates
    from minimax.games import bilinear, rotation_spectral_radius

    game = bilinear()
    p0 = Players(jnp.asarray(1.0), jnp.asarray(1.0))
    STEPS = 300 if QUICK else 3000

    # timescaled(optimizer, τ) = chain(optimizer, two_timescale(τ)): Λ_τ after Adam
    extra_adam = updates.extragradient(updates.timescaled(optax.adam(0.05, b1=0.5), 2.0))
    extra_adam_avg = updates.averaging(extra_adam)  # the same iterates, plus their running average p̄

    @jax.jit
    def run_extra_adam(p, key):
        point = lambda p, _: {"x": p.min, "y": p.max}
        last = train.run(game, extra_adam, p, key, steps=STEPS, record_every=1, metrics=point)
        averaged = train.run(game, extra_adam_avg, p, key, steps=STEPS, record_every=1, metrics=point)
        return last.trajectory, averaged.trajectory, averaged.params, averaged.eval_params

    extra_last, extra_avg, last_point, average_point = jax.device_get(run_extra_adam(p0, jax.random.PRNGKey(0)))
    print("after", STEPS, "steps: last iterate", last_point, " averaged iterate", average_point)
    """),
    md(r"""
    ## 2. A new rule: Lookahead

    Lookahead (Zhang et al., NeurIPS 2019; for games, Chavdarova et al., "Taming GANs with
    Lookahead–Minmax", ICLR 2021) keeps *slow* weights φ. The wrapped rule takes k fast steps from
    φ; then the slow weights move part of the way and the fast weights restart from them:

    $$p \leftarrow T^k(\varphi), \qquad \varphi \leftarrow \varphi + \alpha\,(p - \varphi), \qquad p \leftarrow \varphi.$$

    The state holds the inner rule's state, φ and a step counter; α is a traced number (so a sweep
    over it is vmapped), k a Python integer. Extra arguments such as `field_fn` pass through to the
    inner rule, so it wraps GDA, EG, OGDA or any composition alike.
    """),
    code(r"""
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
            count = optax.safe_increment(state.count)
            sync = count % sync_period == 0
            slow = jax.tree_util.tree_map(lambda s, f: jnp.where(sync, s + alpha * (f - s), s), state.slow, fast)
            new = jax.tree_util.tree_map(lambda s, f: jnp.where(sync, s, f), slow, fast)
            return optax.tree_utils.tree_sub(new, params), LookaheadState(inner_state, slow, count)

        return optax.GradientTransformationExtraArgs(init, update)


    K = 5
    gda = lambda lr: updates.simultaneous(optax.sgd(lr))
    candidates = {
        "GDA": gda(0.2),
        "Lookahead-GDA (α=0.5)": lookahead(gda(0.2), sync_period=K, alpha=0.5),
        "EG": updates.extragradient(optax.sgd(0.2)),
        "Lookahead-EG (α=0.5)": lookahead(updates.extragradient(optax.sgd(0.2)), sync_period=K, alpha=0.5),
    }

    @jax.jit
    def trajectories(p, key):
        return {name: train.run(game, rule, p, key, steps=STEPS, record_every=1,
                                metrics=lambda p, _: {"x": p.min, "y": p.max}).trajectory
                for name, rule in candidates.items()}

    paths = jax.device_get(trajectories(p0, jax.random.PRNGKey(0)))
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    for name, path in paths.items():
        axes[0].plot(path["x"][:150], path["y"][:150], lw=1, label=name)
        axes[1].plot(np.hypot(path["x"], path["y"]), label=name)
    for path, name in ((extra_last, "2ts Extra-Adam, last iterate"), (extra_avg, "2ts Extra-Adam, average p̄")):
        axes[0].plot(path["x"][:150], path["y"][:150], lw=1, label=name)
        axes[1].plot(np.hypot(path["x"], path["y"]), label=name)
    axes[0].set(xlim=(-3, 3), ylim=(-3, 3), aspect="equal", xlabel="x (min player)", ylabel="y (max player)",
                title="first 150 steps from (1, 1), η = 0.2")
    axes[1].set(yscale="log", xlabel="step", ylabel="‖p_k − p*‖", ylim=(1e-8, 1e3), title="distance to the equilibrium")
    axes[1].legend(fontsize=8)
    plt.tight_layout()
    plt.show()
    """),
    md(r"""
    ## 3. Spectral radius: code against closed form

    `spectral_radius(rule, field_fn, p*)` differentiates one step of the rule at the fixed point,
    over the parameters *and* the floating-point state (here φ). Lookahead's step depends on the
    counter, so the right object is the map of one whole cycle of k steps: the product of the k
    one-step Jacobians, each taken after j = 0..k−1 warm-up steps (`update_map_jacobian(...,
    warmup_steps=j)`). Per step, the contraction is ρ_cycle^{1/k}.

    On x·y the fast GDA steps multiply each complex coordinate by (1 ∓ iη), so one cycle maps φ to
    φ + α((1 ∓ iη)^k − 1)φ and

    $$\rho_{\text{cycle}} = \big|\,1 + \alpha\,((1 + i\eta)^k - 1)\,\big|, \qquad
    \rho_{\text{GDA}} = \sqrt{1 + \eta^2}, \qquad \rho_{\text{EG}} = \sqrt{1 - \eta^2 + \eta^4}.$$

    GDA alone expands for every η; Lookahead (a contraction towards the slow weights every k
    steps) pulls it back inside the unit circle for a range of η that depends on α.
    """),
    code(r"""
    ETAS = np.linspace(0.02, 1.2, 15 if QUICK else 60)
    field_fn = game.field_fn()

    def cycle_radius(rule, k):
        # (ρ of the k-step map)^(1/k): the product of one-step Jacobians after j = 0..k-1 warm-up steps.
        J = update_map_jacobian(rule, field_fn, game.equilibrium, warmup_steps=0)
        for j in range(1, k):
            J = update_map_jacobian(rule, field_fn, game.equilibrium, warmup_steps=j) @ J
        return jnp.max(jnp.abs(jnp.linalg.eigvals(J))) ** (1.0 / k)

    @jax.jit
    @jax.vmap
    def radii(lr):
        return {"GDA": spectral_radius(gda(lr), field_fn, game.equilibrium),
                "EG": spectral_radius(updates.extragradient(optax.sgd(lr)), field_fn, game.equilibrium),
                "Lookahead-GDA": cycle_radius(lookahead(gda(lr), sync_period=K, alpha=0.5), K)}

    code_radii = jax.device_get(radii(jnp.asarray(ETAS, jnp.float32)))
    closed = {"GDA": np.asarray(rotation_spectral_radius("gda", ETAS)),
              "EG": np.asarray(rotation_spectral_radius("eg", ETAS)),
              "Lookahead-GDA": np.abs(1 + 0.5 * ((1 + 1j * ETAS) ** K - 1)) ** (1 / K)}
    for name in closed:
        print(f"{name:>14}: max |ρ(code) − ρ(closed form)| = {np.max(np.abs(code_radii[name] - closed[name])):.1e}")

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for name in closed:
        (line,) = ax.plot(ETAS, closed[name], label=f"{name} (closed form)")
        ax.plot(ETAS, code_radii[name], "o", ms=3, color=line.get_color())
    ax.axhline(1, color="k", lw=0.8, ls=":")
    ax.set(xlabel="step size η", ylabel="spectral radius per step", title=f"bilinear x·y, Lookahead k = {K}, α = 0.5 (dots: code)")
    ax.legend(fontsize=8)
    plt.show()
    """),
    md(r"""
    ## 4. A sweep over step size, Lookahead rate and seeds in one jit

    `train.sweep(run_one, grid, keys)` computes `run_one(grid[h], keys[s])` for every grid point h
    and seed s as `jit(vmap_h(vmap_s(run_one)))`: one compilation. The rule is built *inside*
    `run_one` from the traced hyperparameters, so new values never recompile. Seeds draw the
    initial point uniformly in [−1, 1]². The closed form predicts convergence where ρ_cycle < 1,
    inside the white contour.
    """),
    code(r"""
    N_DEVICES = len(jax.devices())
    SEEDS = N_DEVICES * (2 if QUICK else 16)        # a multiple of the device count, for sharding below
    SWEEP_STEPS = 200 if QUICK else 2000
    lrs = np.linspace(0.05, 1.0, 8 if QUICK else 20)
    alphas = np.linspace(0.1, 1.0, 6 if QUICK else 19)
    grid = train.hyperparameter_grid(lr=lrs, alpha=alphas)  # alpha varies fastest

    def run_one(hp, key):
        k_init, k_run = jax.random.split(key)
        rule = lookahead(gda(hp["lr"]), sync_period=K, alpha=hp["alpha"])
        result = train.run(game, rule, game.sample_init(k_init), k_run, steps=SWEEP_STEPS)
        return result.trajectory["distance"][-1], result.diverged

    keys = jax.random.split(jax.random.PRNGKey(0), SEEDS)
    final, diverged = jax.device_get(train.sweep(run_one, grid, keys))  # (grid, seeds)
    print(f"{len(lrs) * len(alphas)} (η, α) pairs × {SEEDS} seeds × {SWEEP_STEPS} steps in one program;",
          f"diverged runs: {int(diverged.sum())}")

    median = np.median(np.where(diverged, np.inf, final), axis=1).reshape(len(lrs), len(alphas))
    L, A = np.meshgrid(lrs, alphas, indexing="ij")
    rho = np.abs(1 + A * ((1 + 1j * L) ** K - 1)) ** (1 / K)
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    mesh = ax.pcolormesh(alphas, lrs, np.log10(np.clip(median, 1e-12, 1e6)), cmap="viridis", shading="nearest")
    ax.contour(alphas, lrs, rho, levels=[1.0], colors="w")
    fig.colorbar(mesh, label="log10 median ‖p_T − p*‖")
    ax.set(xlabel="Lookahead rate α", ylabel="step size η",
           title=f"Lookahead-GDA on x·y after {SWEEP_STEPS} steps (white: ρ_cycle = 1)")
    plt.show()
    """),
    md(r"""
    ## 5. Sharding the seed axis over devices

    `train.shard_seeds(keys, devices)` places the keys on a 1-D device mesh with axis `"seeds"`
    (`NamedSharding`); `sweep(..., devices=...)` does it for you. The jitted sweep then runs each
    device's share of the seeds on that device, and the results come back sharded the same way.
    The numbers do not depend on the placement.
    """),
    code(r"""
    devices = jax.devices()
    sharded = train.sweep(run_one, grid, keys, devices=devices)
    print("devices:", devices)
    print("result sharding:", sharded[0].sharding)
    for shard in sharded[0].addressable_shards[:4]:
        print(f"  {shard.device}: seeds {shard.index[1]}")
    print("identical to the unsharded sweep:", bool(np.allclose(jax.device_get(sharded[0]), final, rtol=1e-5, atol=1e-6)))
    """),
    md(r"""
    ## Takeaways

    * A new rule is an optax transformation of a few lines; anything that wraps
      `inner.update(field, state, params, **extra)` composes with every rule, optimizer and
      projection of minimax and optax.
    * `spectral_radius`/`update_map_jacobian` differentiate your code, so a closed form from the
      paper is a one-line test of the implementation (for time-varying rules, multiply the
      Jacobians of one period).
    * `train.sweep` turns a grid of hyperparameters × seeds into one compiled program, and
      `devices=` spreads its seeds over every accelerator (or CPU device) you have.
    """),
]

NOTEBOOKS = {
    "01_dirac_gan_dynamics.ipynb": DIRAC,
    "02_choosing_a_distance.ipynb": DISTANCE,
    "03_memorization_mnist32.ipynb": MEMORIZATION,
    "04_composing_a_solver.ipynb": SOLVER,
}

#: Runtime sentences, filled into each notebook's introduction.
RUNTIMES = {
    "__RUNTIME_DIRAC__": (
        "With `QUICK = True` (the default on CPU; the tests set `MINIMAX_QUICK=1`) it runs in about 10 s on a "
        "2-core CPU, most of it compilation (25 s when the machine is busy). Full size (`QUICK = False`, the "
        "default on a GPU or TPU; `MINIMAX_QUICK=0` forces it on CPU; 64 seeds × 3000 steps, 100 step sizes): "
        "measured 28 s on a shared 2-core CPU with JAX 0.10.2. Not measured on an accelerator."),
    "__RUNTIME_DISTANCE__": (
        "With `QUICK = True` (the default on CPU; the tests set `MINIMAX_QUICK=1`) it runs in about 20 s on a "
        "2-core CPU, most of it compilation (about a minute when the machine is busy). Full size "
        "(`QUICK = False`, the default on a GPU or TPU; `MINIMAX_QUICK=0` forces it on CPU; 10 distances × "
        "2 step sizes × 8 seeds × 3000 steps, hidden width 64, batch 128): measured 153 s on a shared 2-core "
        "CPU with JAX 0.10.2. Not measured on an accelerator."),
    "__RUNTIME_MEMORIZATION__": (
        "With `QUICK = True` (the default on CPU; the tests set `MINIMAX_QUICK=1`) it runs in about 15 s on a "
        "2-core CPU, most of it compilation (35 s when the machine is busy). Full size (`QUICK = False`, the "
        "default on a GPU or TPU; `MINIMAX_QUICK=0` forces it on CPU): the `minimax mnist32` and `minimax w2` "
        "defaults — at the time of writing 4 configurations × τ ∈ {1, 5} × 4 seeds × 10 000 steps, and both "
        "couplings × 4 seeds × 1000 steps — measured 872 s (about 15 minutes) on a shared 2-core CPU with "
        "JAX 0.10.2. Not measured on an accelerator."),
    "__RUNTIME_SOLVER__": (
        "With `QUICK = True` (the default on CPU; the tests set `MINIMAX_QUICK=1`) it runs in about 5 s on a "
        "2-core CPU, most of it compilation (20 s when the machine is busy). Full size (`QUICK = False`, the "
        "default on a GPU or TPU; `MINIMAX_QUICK=0` forces it on CPU; 380 (η, α) pairs × 64 seeds × 2000 "
        "steps): measured 13 s on a shared 2-core CPU (4 XLA host devices) with JAX 0.10.2. Not measured on "
        "an accelerator."),
}


def build(cells) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.nbformat, nb.nbformat_minor = 4, 5  # pinned, so that --check does not depend on the nbformat version
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "colab": {"provenance": []},
    }
    for i, (kind, source) in enumerate(cells):
        for key, value in RUNTIMES.items():
            source = source.replace(key, value)
        cell = nbformat.v4.new_markdown_cell(source) if kind == "markdown" else nbformat.v4.new_code_cell(source)
        cell.id = f"cell-{i:02d}"
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def render(cells) -> str:
    return nbformat.writes(build(cells)) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the notebooks are up to date")
    args = parser.parse_args(argv)
    stale = []
    for name, cells in NOTEBOOKS.items():
        path = HERE / name
        text = render(cells)
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print("wrote", path)
    if stale:
        print("out of date (run `python notebooks/build.py`):", ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
