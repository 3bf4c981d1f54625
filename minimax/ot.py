"""Optimal transport for generative modelling: couplings, the W2 regression bound, Sinkhorn losses.

The only module of minimax that imports ott-jax (which imports jaxopt), and only inside the
entropic solvers (:func:`sinkhorn`, :func:`sinkhorn_divergence`): ``import minimax`` does not
load it, and the exact assignment, the W2 game with exact couplings and the memorization
metric work without ott-jax installed. Costs are squared Euclidean, C_ij = ‖x_i − y_j‖², on samples whose
trailing axes are flattened (a 1-D array is n scalar samples).

* :func:`assignment`: the exact optimal coupling of two equal-size uniform point sets,
  a permutation σ minimizing (1/n) Σ_i ‖x_i − y_σ(i)‖² = W₂²(x̂, ŷ) (Hungarian algorithm,
  ``optax.assignment.hungarian_algorithm``, the solver behind ``ott.tools.unreg.hungarian``;
  runs under jit and vmap).
* :func:`sinkhorn`: the entropic coupling (ott-jax Sinkhorn) with ε, ε-scaling and a
  fixed-iteration mode for vmap.
* :func:`regression_pairs`: a plan P turned into one regression target per latent.
* :func:`w2_game`: the bound W₂²(ν̂, (G_θ)#ξ̂) <= E_{(x,z)~α}‖x − G_θ(z)‖² for a coupling α,
  a plain regression, as a single-player game with the coupling as its carried state
  (Chae, Kim & Kim, "Rethinking memorization-generalization trade-off in generative
  models", ICML HiLD workshop 2025; D. Kim, KIAS talk, Jan 2026).
* :func:`sinkhorn_divergence` (a debiased generator loss) and :func:`w2_squared` (an
  evaluation metric).

Arguments are validated before any computation (:mod:`minimax.validation`): mismatched sizes,
non-finite points, negative or unequal marginal weights and ε <= 0 raise ``ValueError``.
Value checks run on concrete inputs, and on traced ones under :func:`minimax.validation.checked`.
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Callable, NamedTuple, Optional, Union

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from minimax import validation
from minimax.game import Game

PAIR_METHODS = ("barycentric", "argmax", "sample")


# ----------------------------------------------------------------------------- checks

def _points(x, name: str, fn: str = "minimax.ot") -> jax.Array:
    """Samples (n, ...) as a finite float (n, d) array (:func:`minimax.validation.samples`)."""
    return validation.samples(fn, name, x)


def _pair(x, y, fn: str):
    return validation.sample_pair(fn, x, y)


def _positive(value, name: str, fn: str):
    validation.number(fn, name, value, low=0, low_open=True)


# ----------------------------------------------------------------------------- couplings

def cost_matrix(x, y) -> jax.Array:
    """C_ij = ‖x_i − y_j‖², from ‖x̃_i‖² + ‖ỹ_j‖² − 2 x̃_i·ỹ_j with both sets centred at their
    joint mean (less cancellation), clipped at 0. O(nm d) time, O(nm) memory."""
    x, y = _pair(x, y, "cost_matrix")
    c = (x.sum(0) + y.sum(0)) / (x.shape[0] + y.shape[0])
    x, y = x - c, y - c
    sq = jnp.sum(x * x, 1)[:, None] + jnp.sum(y * y, 1)[None, :] - 2.0 * x @ y.T
    return jnp.maximum(sq, 0.0)


class Assignment(NamedTuple):
    perm: jax.Array  # (n,) int32: x_i is matched to y_perm[i]
    cost: jax.Array  # (1/n) Σ_i ‖x_i − y_perm[i]‖² = W₂²(x̂, ŷ), from exact differences


def assignment(x, y) -> Assignment:
    """The optimal assignment σ = argmin_σ (1/n) Σ_i ‖x_i − y_σ(i)‖² between two sets of n points.

    For uniform weights on equal-size sets an optimal plan of the Kantorovich problem is a
    permutation (Birkhoff–von Neumann), so this is exact W₂² between the empirical measures.
    Hungarian algorithm (Kuhn 1955; ``optax.assignment.hungarian_algorithm``), O(n³),
    jittable and vmappable.

    Examples:
        Three points and a shuffled, shifted copy: the assignment undoes the shuffle, and the
        cost is the squared shift (0.1² in each of two coordinates):

        >>> import jax.numpy as jnp
        >>> from minimax import ot
        >>> x = jnp.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
        >>> y = x[jnp.array([2, 0, 1])] + 0.1
        >>> match = ot.assignment(x, y)
        >>> match.perm.tolist(), round(float(match.cost), 4)
        ([1, 2, 0], 0.02)
    """
    x, y = _pair(x, y, "assignment")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"assignment: exact assignment needs equal sizes, got {x.shape[0]} and {y.shape[0]} "
                         "points (use `sinkhorn` for unequal sizes)")
    return _assign(x, y)


@jax.jit
def _assign(x, y) -> Assignment:
    rows, cols = optax.assignment.hungarian_algorithm(cost_matrix(x, y))
    perm = jnp.zeros(x.shape[0], jnp.int32).at[rows].set(cols.astype(jnp.int32))
    return Assignment(perm, jnp.mean(jnp.sum((x - y[perm]) ** 2, axis=1)))


def permutation_plan(perm) -> jax.Array:
    """The plan of a permutation: P_{i, perm[i]} = 1/n, zero elsewhere, (n, n)."""
    n = perm.shape[0]
    return jax.nn.one_hot(perm, n) / n


class SinkhornCoupling(NamedTuple):
    plan: jax.Array            # (n, m) P, Σ_j P_ij ≈ a_i, Σ_i P_ij ≈ b_j
    cost: jax.Array            # ⟨P, C⟩, the transport cost of P
    reg_cost: jax.Array        # ⟨P, C⟩ + ε KL(P ‖ a bᵀ) (ott's reg_ot_cost)
    epsilon: jax.Array         # the absolute ε used
    converged: jax.Array       # marginal_error <= threshold
    iterations: jax.Array      # Sinkhorn iterations run
    marginal_error: jax.Array  # max(‖P1 − a‖₁, ‖Pᵀ1 − b‖₁)


def _mean_cost(x, y, a, b):
    """Σ_ij a_i b_j ‖x_i − y_j‖² = Σ a‖x‖² + Σ b‖y‖² − 2 (Σ a x)·(Σ b y), in O((n + m) d)."""
    return a @ jnp.sum(x * x, 1) + b @ jnp.sum(y * y, 1) - 2.0 * (a @ x) @ (b @ y)


def _relative(eps, x, y, a, b):
    """ε × the mean cost; when every point coincides (mean cost 0, any plan is optimal) ε itself,
    so that the kernel stays finite instead of ε = 0 turning the plan into NaN."""
    scale = lax.stop_gradient(_mean_cost(x, y, a, b))
    return eps * jnp.where(scale > 0, scale, 1.0)


def _solver_options(threshold, max_iterations, iterations, min_iterations=0) -> tuple:
    """Sinkhorn solver options as a hashable (static) tuple of items; ``iterations`` fixes the
    count (a scan: vmapped members do not wait for the slowest one in a batched while-loop)."""
    if iterations is None:
        if min_iterations:
            # ott checks the error of the last block of 10 (its inner_iterations) iterations; that
            # block must lie after the scaling ends and the error must be computed in it: min = 10k − 1
            min_iterations = 10 * -(-(min_iterations + 1) // 10) - 1
        if max_iterations < max(min_iterations, 1):
            raise ValueError(f"`max_iterations` ({max_iterations}) must be >= {max(min_iterations, 1)}")
        options = dict(min_iterations=min_iterations, max_iterations=max_iterations)
    elif not isinstance(iterations, (int, np.integer)) or iterations < max(min_iterations, 1):
        raise ValueError(f"`iterations` must be a positive integer >= {min_iterations} or None, got {iterations!r}")
    else:
        options = dict(min_iterations=iterations, max_iterations=iterations, inner_iterations=iterations)
    return tuple(sorted(dict(options, threshold=float(threshold)).items()))


def sinkhorn(x, y, *, epsilon, a=None, b=None, relative_epsilon: bool = False,
             epsilon_init: float = 1.0, epsilon_decay: float = 1.0, threshold: float = 1e-3,
             max_iterations: int = 2000, iterations: Optional[int] = None) -> SinkhornCoupling:
    """The entropic coupling argmin_{P ∈ Π(a, b)} ⟨P, C⟩ + ε KL(P ‖ a bᵀ), by ott-jax Sinkhorn.

    Cuturi, "Sinkhorn distances", NeurIPS 2013; log-domain iterations (ott-jax).

    Args:
      x, y: points (n, ...) and (m, ...) with equal sample shapes.
      epsilon: ε > 0, absolute, or a fraction of the mean cost Σ a_i b_j C_ij when
        ``relative_epsilon``.
      a, b: marginal weights (default uniform).
      epsilon_init, epsilon_decay: ε-scaling, ε_t = ε · max(init · decay^t, 1); the loop
        runs at least until ε_t reaches ε.
      threshold: marginal error (L1) at which the while-loop stops.
      max_iterations: iteration cap of the while-loop.
      iterations: run exactly this many iterations (a scan) instead; use under ``vmap``.
    """
    x, y = _pair(x, y, "sinkhorn")
    _positive(epsilon, "epsilon", "sinkhorn")
    if epsilon_init < 1.0 or not 0.0 < epsilon_decay <= 1.0 or (epsilon_init > 1.0 and epsilon_decay == 1.0):
        raise ValueError(f"sinkhorn: need epsilon_init >= 1 and 0 < epsilon_decay <= 1 (< 1 when "
                         f"epsilon_init > 1), got {epsilon_init} and {epsilon_decay}")
    # ε-scaling must reach the target before the error test may stop the loop
    scaling = 0 if epsilon_init == 1.0 else int(np.ceil(np.log(epsilon_init) / -np.log(epsilon_decay)))
    a = validation.weights("sinkhorn", "a", a, x.shape[0])
    b = validation.weights("sinkhorn", "b", b, y.shape[0])
    validation.require(jnp.abs(jnp.sum(a) - jnp.sum(b)) <= 1e-5 * jnp.maximum(1.0, jnp.sum(a)),
                       "sinkhorn: the marginals `a` and `b` must have equal total mass (balanced transport)")
    return _sinkhorn_solve(x, y, a, b, epsilon, relative=relative_epsilon,
                           schedule=(float(epsilon_init), float(epsilon_decay)),
                           options=_solver_options(threshold, max_iterations, iterations, scaling))


@functools.partial(jax.jit, static_argnames=("relative", "schedule", "options"))
def _sinkhorn_solve(x, y, a, b, epsilon, *, relative, schedule, options) -> SinkhornCoupling:
    from ott.geometry import epsilon_scheduler, geometry
    from ott.problems.linear import linear_problem
    from ott.solvers.linear import sinkhorn as ott_sinkhorn

    C = cost_matrix(x, y)
    eps = jnp.asarray(epsilon, C.dtype)
    eps = _relative(eps, x, y, a, b) if relative else eps
    geom = geometry.Geometry(cost_matrix=C, epsilon=epsilon_scheduler.Epsilon(eps, *schedule))
    out = ott_sinkhorn.Sinkhorn(**dict(options))(linear_problem.LinearProblem(geom, a=a, b=b))
    plan = out.matrix
    error = jnp.maximum(jnp.sum(jnp.abs(plan.sum(1) - a)), jnp.sum(jnp.abs(plan.sum(0) - b)))
    return SinkhornCoupling(plan, jnp.sum(plan * C), out.reg_ot_cost, eps, error <= dict(options)["threshold"],
                            out.n_iters, error)


def regression_pairs(plan, x, *, method: str = "barycentric", key=None):
    """One regression target t_j per column j (latent/generated point) of a plan P, and its weight.

    With weights w_j = Σ_i P_ij:

    * ``"barycentric"``: t_j = Σ_i P_ij x_i / w_j. Then
      Σ_ij P_ij ‖x_i − g_j‖² = Σ_j w_j ‖t_j − g_j‖² + Σ_ij P_ij ‖x_i − t_j‖², so regressing on
      t_j has the gradient of the full bound (the last term does not depend on g).
    * ``"argmax"``: t_j = x_{argmax_i P_ij} (exact for a permutation plan).
    * ``"sample"``: t_j = x_i with i ~ P_{·j} / w_j (needs ``key``); unbiased for the bound.

    Returns ``(targets (m, ...) shaped like x's samples, weights (m,))``.
    """
    if method not in PAIR_METHODS:
        raise ValueError(f"regression_pairs: `method` must be one of {PAIR_METHODS}, got {method!r}")
    plan, shape = jnp.asarray(plan), jnp.shape(x)[1:]
    xf = _points(x, "x", "regression_pairs")
    if plan.ndim != 2 or plan.shape[0] != xf.shape[0]:
        raise ValueError(f"regression_pairs: `plan` must be (n, m) with n = {xf.shape[0]} rows, one per "
                         f"point of x, got shape {plan.shape}")
    weights = plan.sum(0)
    if method == "barycentric":
        targets = (plan.T @ xf) / jnp.where(weights > 0, weights, 1.0)[:, None]
    elif method == "argmax":
        targets = xf[jnp.argmax(plan, axis=0)]
    else:
        if key is None:
            raise ValueError("regression_pairs: method='sample' needs a PRNG `key`")
        targets = xf[jax.random.categorical(key, jnp.log(plan.T), axis=-1)]
    return targets.reshape((plan.shape[1],) + shape), weights


# ----------------------------------------------------------------------------- losses and metrics

def sinkhorn_divergence(x, y, *, epsilon, relative_epsilon: bool = False, threshold: float = 1e-3,
                        max_iterations: int = 2000, iterations: Optional[int] = None) -> jax.Array:
    """Debiased Sinkhorn divergence S_ε(x, y) = OT_ε(x, y) − ½ OT_ε(x, x) − ½ OT_ε(y, y), uniform weights.

    OT_ε is the regularized cost of :func:`sinkhorn`; S_ε >= 0, = 0 iff x̂ = ŷ, and
    interpolates between W₂² (ε → 0) and an MMD (ε → ∞). Differentiable (implicit
    differentiation), a generator loss. Genevay, Peyré & Cuturi, AISTATS 2018;
    Feydy et al., AISTATS 2019. ε is shared by the three terms.
    """
    x, y = _pair(x, y, "sinkhorn_divergence")
    _positive(epsilon, "epsilon", "sinkhorn_divergence")
    return _divergence(x, y, epsilon, relative=relative_epsilon,
                       options=_solver_options(threshold, max_iterations, iterations))


@functools.partial(jax.jit, static_argnames=("relative", "options"))
def _divergence(x, y, epsilon, *, relative, options):
    from ott.geometry import costs
    from ott.tools import sinkhorn_divergence as ott_divergence

    eps = jnp.asarray(epsilon, x.dtype)
    if relative:
        a, b = jnp.full((x.shape[0],), 1.0 / x.shape[0]), jnp.full((y.shape[0],), 1.0 / y.shape[0])
        eps = _relative(eps, x, y, a, b)
    value, _ = ott_divergence.sinkdiv(x, y, cost_fn=costs.SqEuclidean(), epsilon=eps, solve_kwargs=dict(options))
    return value


def w2_squared(x, y, *, method: str = "exact", epsilon=0.01, relative_epsilon: bool = True,
               **sinkhorn_kwargs) -> jax.Array:
    """W₂² between the empirical measures of x and y, an evaluation metric.

    ``method="exact"``: the optimal assignment (equal sizes). ``"sinkhorn"``: the transport
    cost ⟨P_ε, C⟩ of the entropic plan (any sizes), which tends to W₂² as ε → 0;
    ``sinkhorn_kwargs`` go to :func:`sinkhorn`. Take the square root for W₂.
    """
    if method == "exact":
        return assignment(x, y).cost
    if method == "sinkhorn":
        return sinkhorn(x, y, epsilon=epsilon, relative_epsilon=relative_epsilon, **sinkhorn_kwargs).cost
    raise ValueError(f"w2_squared: `method` must be 'exact' or 'sinkhorn', got {method!r}")


# ----------------------------------------------------------------------------- W2 regression

class Coupled(NamedTuple):
    """A coupling turned into regression targets: the game state of :func:`w2_game`."""

    latents: jax.Array   # (m, ...) z_j
    batch: jax.Array     # (n, ...) x_i coupled to them
    targets: jax.Array   # (m, ...) regression targets t_j
    centers: jax.Array   # (m, ...) barycentric targets t̄_j
    weights: jax.Array   # (m,) w_j = Σ_i P_ij
    offset: jax.Array    # Σ_ij P_ij ‖x_i − t̄_j‖², so that bound = Σ_j w_j ‖t̄_j − G(z_j)‖² + offset


def _sq_norms(a, b):
    """‖a_j − b_j‖² per sample (b may be a scalar)."""
    return jnp.sum((a - b).reshape(a.shape[0], -1) ** 2, axis=1)


@dataclasses.dataclass(frozen=True)
class W2Regression:
    """The pieces of the W2 regression game (static): how to couple, and the losses and hooks."""

    generator: Callable
    latent_sampler: Optional[Callable]
    coupling: str
    epsilon: float
    relative_epsilon: bool
    sinkhorn_iterations: Optional[int]
    pairs: str
    recompute_every: Optional[int]
    batch_size: int     # data points per coupling
    latent_count: int   # m

    def couple(self, params, key, args) -> Coupled:
        data, fixed_latents = args
        k_z, k_x, k_pairs = jax.random.split(key, 3)
        z = self.latent_sampler(k_z) if self.latent_sampler is not None else fixed_latents
        n = data.shape[0]
        x = data if self.batch_size == n else data[jax.random.choice(k_x, n, (self.batch_size,), replace=False)]
        g = lax.stop_gradient(self.generator(params.min, z))
        m = z.shape[0]
        if self.coupling == "exact":
            t = x.at[_assign(x.reshape(m, -1), g.reshape(m, -1)).perm].set(x)  # t_{σ(i)} = x_i
            return Coupled(z, x, t, t, jnp.full((m,), 1.0 / m), jnp.zeros((), x.dtype))
        plan = sinkhorn(x, g, epsilon=self.epsilon, relative_epsilon=self.relative_epsilon,
                        iterations=self.sinkhorn_iterations).plan
        centers, weights = regression_pairs(plan, x)
        targets = centers if self.pairs == "barycentric" else regression_pairs(plan, x, method=self.pairs,
                                                                                key=k_pairs)[0]
        offset = plan.sum(1) @ _sq_norms(x, 0.0) - weights @ _sq_norms(centers, 0.0)  # Σ_ij P_ij ‖x_i − t̄_j‖²
        return Coupled(z, x, targets, centers, weights, jnp.maximum(offset, 0.0))

    def loss(self, params, key, args, c: Coupled):
        return c.weights @ _sq_norms(c.targets, self.generator(params.min, c.latents))

    def init_state(self, params, key, args):
        return self.couple(params, key, args)

    def update_state(self, c: Coupled, params, key, args, step, aux):
        if self.recompute_every is None:
            return c
        return lax.cond(step % self.recompute_every == 0, lambda: self.couple(params, key, args), lambda: c)

    def bound(self, params, c: Coupled):
        """B(θ, α) = Σ_ij α_ij ‖x_i − G_θ(z_j)‖² for the coupling α in use."""
        return c.weights @ _sq_norms(c.centers, self.generator(params.min, c.latents)) + c.offset


def w2_game(generator: Callable, data, latents: Union[jax.Array, Callable], *, coupling: str = "exact",
            epsilon: float = 0.01, relative_epsilon: bool = True, sinkhorn_iterations: Optional[int] = None,
            pairs: str = "barycentric", recompute_every: Optional[int] = None,
            sample_init: Optional[Callable] = None) -> Game:
    """The W2 regression bound  B(θ, α) = Σ_ij α_ij ‖x_i − G_θ(z_j)‖² >= W₂²(ν̂, (G_θ)#ξ̂), as a game.

    Any coupling α ∈ Π(ν̂, ξ̂) gives the bound; α is the optimal (``coupling="exact"``) or
    entropic (``"sinkhorn"``) coupling between the data x_i and the generated points G_θ(z_j).
    Given α the problem is a regression of G_θ(z_j) onto targets t_j (see
    :func:`regression_pairs`; exact couplings regress onto the matched x_σ⁻¹(j)). It is a
    single-player game (the max player is ``()``) whose carried state is the coupling, a
    :class:`Coupled`, so any rule of :mod:`minimax.updates` trains it with
    :func:`minimax.train.run`; record the bound with :func:`w2_metrics`.

    * Empirical risk: ``latents`` is a fixed array ẑ (m, ...) and ``recompute_every=None``:
      α is computed once, at θ₀, and training is plain regression.
    * Recomputed / minibatch OT: ``recompute_every=k`` recomputes α at θ every k steps;
      with ``latents`` a function ``key -> (m, ...)`` fresh latents are drawn at each
      recomputation, and a fresh batch of m data points when the data has more.

    Args:
      generator: ``generator(params, z) -> x`` mapping (m, ...) latents to (m, ...) samples.
      data: (n, ...) training points (a leaf of the game).
      latents: fixed latent set (a leaf), or a sampler ``key -> latents``.
      coupling: ``"exact"`` (needs as many data points as latents) or ``"sinkhorn"``.
      epsilon, relative_epsilon, sinkhorn_iterations: Sinkhorn options (:func:`sinkhorn`);
        the default ε is 0.01 × the mean cost.
      pairs: how a Sinkhorn plan becomes targets (``regression_pairs`` method).
      recompute_every: k, or None to couple once (required for a latent sampler).
      sample_init: ``key -> Players(θ, ())`` for sweeps.

    References: Chae, Kim & Kim, "Rethinking memorization-generalization trade-off in
    generative models", ICML HiLD workshop 2025; D. Kim, KIAS talk, Jan 2026.
    """
    if recompute_every is not None and (not isinstance(recompute_every, (int, np.integer)) or recompute_every < 1):
        raise ValueError(f"w2_game: `recompute_every` must be a positive integer or None, got {recompute_every!r}")
    if coupling not in ("exact", "sinkhorn"):
        raise ValueError(f"w2_game: `coupling` must be 'exact' or 'sinkhorn', got {coupling!r}")
    if pairs not in PAIR_METHODS:
        raise ValueError(f"w2_game: `pairs` must be one of {PAIR_METHODS}, got {pairs!r}")
    if not callable(generator):
        raise TypeError(f"w2_game: `generator` must be callable, got {type(generator).__name__}")
    if coupling == "sinkhorn":
        _positive(epsilon, "epsilon", "w2_game")
    _points(data, "data", "w2_game")
    data = jnp.asarray(data, jnp.result_type(float))
    fresh = callable(latents)
    if fresh and recompute_every is None:
        raise ValueError("w2_game: a latent sampler needs `recompute_every` (fresh latents each recomputation)")
    if fresh:
        m = jax.eval_shape(latents, jax.random.PRNGKey(0)).shape[0]
    else:
        latents = _points(latents, "latents", "w2_game").reshape(jnp.shape(latents))
        m = latents.shape[0]
    n = data.shape[0]
    batch_size = min(m, n) if fresh else n
    if coupling == "exact" and batch_size != m:
        raise ValueError(f"w2_game: exact couplings need as many data points as latents, got {batch_size} and {m}")
    spec = W2Regression(generator, latents if fresh else None, coupling, float(epsilon), relative_epsilon,
                        sinkhorn_iterations, pairs, recompute_every, batch_size, m)
    return Game(loss=spec.loss, args=(data, None if fresh else latents), name="w2_regression",
                sample_init=sample_init, init_state=spec.init_state, update_state=spec.update_state)


def w2_metrics(game: Game, *, exact: bool = True) -> Callable:
    """Metrics for :func:`minimax.train.run` on a :func:`w2_game`: ``w2_bound`` B(θ, α) for the
    coupling in use (an upper bound of W₂², for a Sinkhorn plan up to its marginal error) and,
    with ``exact``, ``w2_exact`` = W₂²(batch, G_θ(z)) by an optimal assignment (n = m)."""
    spec = game.loss.__self__
    if not isinstance(spec, W2Regression):
        raise TypeError("w2_metrics: expected a game built by minimax.ot.w2_game")
    if exact and spec.batch_size != spec.latent_count:
        raise ValueError(f"w2_metrics: `exact` needs as many data points per coupling as latents, got "
                         f"{spec.batch_size} and {spec.latent_count}")

    def metrics(params, key, game, c: Coupled):
        out = {"w2_bound": spec.bound(params, c)}
        if exact:
            g = spec.generator(params.min, c.latents)
            out["w2_exact"] = _assign(c.batch.reshape(c.batch.shape[0], -1), g.reshape(g.shape[0], -1)).cost
        return out
    return metrics
