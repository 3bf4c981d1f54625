"""Local diagnostics at a point: the Jacobian of F and the linearized update map, dense or matrix-free.

Near a fixed point p* (F(p*) = 0) an update rule is the map p_{k+1} = T(p_k) and
converges locally iff the spectral radius ρ(∂T(p*)) < 1. Here ∂T is obtained by
differentiating one step of the rule itself (forward mode), not from a formula, so
it holds for any composition of optax transformations. For rules with memory
(optimistic GDA keeps F(p_{k−1}), averaging keeps p̄) T acts on the pair
(parameters, floating-point optimizer state) and ∂T is that joint Jacobian. For rules with
a cycle (Lookahead's k fast steps) take T as ``steps`` = k steps.

Dense (small games): :func:`field_jacobian`, :func:`field_eigenvalues`,
:func:`update_map_jacobian`, :func:`spectral_radius` build n × n matrices.

Matrix-free (games with 10⁵–10⁶ parameters): :func:`top_field_eigenvalues` and
:func:`top_update_eigenvalues` run Arnoldi (:func:`arnoldi_ritz_values`) on Jacobian-vector
products (``jax.linearize``), so the cost is one linearization plus ``krylov_dim`` JVPs and
O(krylov_dim² n) orthogonalization, with ``krylov_dim`` + 1 vectors of size n in memory.
:func:`suggest_step_size` and :func:`stiffness_metric` build on them.

References: Mescheder, Nowozin, Geiger, "The numerics of GANs", NeurIPS 2017;
Gidel et al., "Negative momentum for improved game dynamics", AISTATS 2019; Saad,
"Numerical methods for large eigenvalue problems", 2nd ed., SIAM 2011 (Arnoldi's method).
"""
from __future__ import annotations

from typing import Callable, Optional

import jax
import jax.numpy as jnp
import optax
from jax import lax
from jax.flatten_util import ravel_pytree

from minimax import validation


def field_jacobian(field_fn: Callable, params) -> jax.Array:
    """∂F(p) as a dense (n, n) matrix over the flattened parameters."""
    validation.callable_argument("field_jacobian", "field_fn", field_fn)
    flat, unravel = ravel_pytree(params)
    return jax.jacfwd(lambda x: ravel_pytree(field_fn(unravel(x)))[0])(flat)


def field_eigenvalues(field_fn: Callable, params) -> jax.Array:
    """Eigenvalues of ∂F(p) (complex)."""
    return jnp.linalg.eigvals(field_jacobian(field_fn, params))


def _is_float(x) -> bool:
    return jnp.issubdtype(jnp.result_type(x), jnp.inexact)


def _update_map(rule: optax.GradientTransformationExtraArgs, field_fn: Callable, params, warmup_steps: int,
                steps: int):
    """(T, x0): T maps the flattened float leaves of (params, optimizer state) through ``steps`` steps of ``rule``.

    The optimizer state is first advanced ``warmup_steps`` times at ``params``; x0 is the point reached.
    """
    _check_rule_args("update_map_jacobian", rule, field_fn, params)

    def advance(p, s):
        updates, s = rule.update(field_fn(p), s, p, field_fn=field_fn)
        return optax.apply_updates(p, updates), s

    state = rule.init(params)
    for _ in range(warmup_steps):
        params, state = advance(params, state)

    leaves, treedef = jax.tree_util.tree_flatten((params, state))
    is_float = [_is_float(leaf) for leaf in leaves]
    x0, unravel = ravel_pytree([leaf for leaf, f in zip(leaves, is_float) if f])

    def step(x):
        floats = iter(unravel(x))
        p, s = jax.tree_util.tree_unflatten(treedef, [next(floats) if f else leaf for leaf, f in zip(leaves, is_float)])
        for _ in range(steps):
            p, s = advance(p, s)
        return ravel_pytree([leaf for leaf in jax.tree_util.tree_leaves((p, s)) if _is_float(leaf)])[0]

    return step, x0


def _check_rule_args(fn: str, rule, field_fn, params):
    if not isinstance(rule, optax.GradientTransformation):
        raise TypeError(f"{fn}: `rule` must be an optax GradientTransformation, got {validation.describe(rule)}")
    validation.callable_argument(fn, "field_fn", field_fn)
    if params is None or not jax.tree_util.tree_leaves(params):
        raise ValueError(f"{fn}: `params` must be a non-empty pytree of arrays (e.g. a minimax.Players), got "
                         f"{validation.describe(params)}")


def update_map_jacobian(rule: optax.GradientTransformationExtraArgs, field_fn: Callable, params,
                        *, warmup_steps: int = 1, steps: int = 1) -> jax.Array:
    """∂T at ``params``, T being ``steps`` steps of ``rule`` on (params, float optimizer state).

    The optimizer state is first advanced ``warmup_steps`` times at ``params`` (so
    that first-step special cases such as OGDA's F_{−1} := F_0 are behind it);
    ``params`` should be a fixed point, where these warm-up steps leave it unchanged.
    ``steps = k`` gives the map of a whole cycle of a rule with period k (Lookahead).
    """
    step, x0 = _update_map(rule, field_fn, params, warmup_steps, steps)
    return jax.jacfwd(step)(x0)


def spectral_radius(rule: optax.GradientTransformationExtraArgs, field_fn: Callable, params,
                    *, warmup_steps: int = 1, steps: int = 1) -> jax.Array:
    """ρ(∂T(p)) = max |eig|, the local contraction factor of ``rule`` at a fixed point (per ``steps`` steps)."""
    jac = update_map_jacobian(rule, field_fn, params, warmup_steps=warmup_steps, steps=steps)
    return jnp.max(jnp.abs(jnp.linalg.eigvals(jac)))


# ----------------------------------------------------------------------------- matrix-free spectra

#: Orders of the top eigenvalues: largest modulus, largest real part, smallest real part.
WHICH = ("LM", "LR", "SR")


def _orthogonalize(basis, w):
    """w minus its projection on the rows of ``basis`` (zero rows are ignored), twice (CGS2); and the coefficients."""
    h = basis @ w
    w = w - h @ basis
    h2 = basis @ w
    return w - h2 @ basis, h + h2


def arnoldi_ritz_values(matvec: Callable, v0: jax.Array, krylov_dim: int, key=None) -> jax.Array:
    """The Ritz values of A on the Krylov space K_m(A, v0), m = min(krylov_dim, n), by Arnoldi.

    Builds an orthonormal basis Q (m × n) with A Qᵀ = Qᵀ H + (residual), H upper Hessenberg, in a
    ``lax.fori_loop`` with full re-orthogonalization (classical Gram–Schmidt twice per step),
    and returns the eigenvalues of H (complex, unordered). When the Krylov space becomes
    invariant (a breakdown, e.g. A has fewer distinct eigenvalues than m) Arnoldi continues
    from a random vector orthogonal to Q (drawn from ``key``) with a zero subdiagonal entry, so
    every Ritz value still approximates an eigenvalue of A. The extreme eigenvalues (largest
    modulus, extreme real parts) converge first; with m = n they are all exact. Jittable and
    vmappable; A is only applied to vectors (``matvec``: (n,) -> (n,)).
    """
    n = v0.shape[0]
    m = min(krylov_dim, n)
    key = jax.random.PRNGKey(0) if key is None else key
    tiny = 100 * jnp.finfo(v0.dtype).eps
    basis = jnp.zeros((m + 1, n), v0.dtype).at[0].set(v0 / jnp.linalg.norm(v0))
    hess = jnp.zeros((m + 1, m), v0.dtype)

    def restart(basis, j):
        r, _ = _orthogonalize(basis, jax.random.normal(jax.random.fold_in(key, j), (n,), v0.dtype))
        return r / jnp.maximum(jnp.linalg.norm(r), tiny), jnp.zeros([], v0.dtype)

    def body(j, carry):
        basis, hess = carry
        image = matvec(basis[j])
        w, h = _orthogonalize(basis, image)
        beta = jnp.linalg.norm(w)
        q, beta = lax.cond(beta <= tiny * jnp.linalg.norm(image), restart, lambda b, _: (w / beta, beta), basis, j)
        return basis.at[j + 1].set(q), hess.at[:, j].set(h).at[j + 1, j].set(beta)

    _, hess = lax.fori_loop(0, m, body, (basis, hess))
    return jnp.linalg.eigvals(hess[:m, :m])


def _top(ritz: jax.Array, k: int, which: str) -> jax.Array:
    primary = {"LM": -jnp.abs(ritz), "LR": -ritz.real, "SR": ritz.real}[which]
    return ritz[jnp.lexsort((-ritz.imag, primary))[:k]]


def _check_spectrum_args(fn: str, k, which, krylov_dim):
    if which not in WHICH:
        raise ValueError(f"{fn}: `which` must be one of {WHICH}, got {which!r}")
    validation.positive_int(fn, "krylov_dim", krylov_dim)
    if validation.positive_int(fn, "k", k) > krylov_dim:
        raise ValueError(f"{fn}: `k` must be at most krylov_dim={krylov_dim}, got {k!r}")


def _top_eigenvalues(name: str, fn: Callable, x0: jax.Array, k: int, which: str, krylov_dim: int, key) -> jax.Array:
    _check_spectrum_args(name, k, which, krylov_dim)
    key = jax.random.PRNGKey(0) if key is None else key
    k_start, k_restart = jax.random.split(key)
    _, matvec = jax.linearize(fn, x0)
    v0 = jax.random.normal(k_start, x0.shape, x0.dtype)
    return _top(arnoldi_ritz_values(matvec, v0, krylov_dim, k_restart), k, which)


def top_field_eigenvalues(field_fn: Callable, params, *, k: int = 1, which: str = "LM", krylov_dim: int = 20,
                          key=None) -> jax.Array:
    """The k top eigenvalues of ∂F(p) (complex), matrix-free: Arnoldi on v ↦ ∂F(p) v.

    ``which``: "LM" largest modulus (the stiffness |λ|max), "LR" largest real part, "SR"
    smallest real part (the least stable direction of the flow ṗ = −F(p)). ``krylov_dim``
    (static) is the size of the Krylov space; ``key`` draws its start vector (default
    PRNGKey(0)). Conjugate pairs come out positive imaginary part first. Cost: one
    ``jax.linearize`` of F and ``krylov_dim`` JVPs (Hessian-vector products of the losses).
    """
    flat, unravel = ravel_pytree(params)
    return _top_eigenvalues("top_field_eigenvalues", lambda x: ravel_pytree(field_fn(unravel(x)))[0], flat, k, which,
                            krylov_dim, key)


def top_update_eigenvalues(rule: optax.GradientTransformationExtraArgs, field_fn: Callable, params, *, k: int = 1,
                           which: str = "LM", krylov_dim: int = 20, warmup_steps: int = 1, steps: int = 1,
                           key=None) -> jax.Array:
    """The k top eigenvalues of ∂T, T the map :func:`update_map_jacobian` differentiates, matrix-free.

    ``which="LM"``: the first is the local contraction factor ρ(∂T) in modulus. Arguments as in
    :func:`top_field_eigenvalues` and :func:`update_map_jacobian`. Cost: one linearization of
    ``steps`` rule steps and ``krylov_dim`` JVPs through them.
    """
    step, x0 = _update_map(rule, field_fn, params, warmup_steps, steps)
    return _top_eigenvalues("top_update_eigenvalues", step, x0, k, which, krylov_dim, key)


def suggest_step_size(field_fn: Callable, params, c=0.5, *, krylov_dim: int = 20, key=None) -> jax.Array:
    """η = c / |λ|max(∂F(p)), a step size for extragradient at ``params``.

    EG's linearized factor on an eigenvalue λ of ∂F is 1 − ηλ + η²λ²; for λ in the closed right
    half-plane (a monotone game) it has modulus < 1 when 0 < η|λ| < 1 (on the imaginary axis
    exactly: |1 − z + z²|² = 1 − |z|² + |z|⁴ for z = iη|λ|). c = 0.5 leaves a factor 2 for the
    curvature changing along the run and for a Krylov estimate below the true |λ|max.
    """
    lam = top_field_eigenvalues(field_fn, params, k=1, which="LM", krylov_dim=krylov_dim, key=key)
    return c / jnp.abs(lam[0])


def stiffness_metric(krylov_dim: int = 10, *, base: Optional[Callable] = None) -> Callable:
    """``metrics(params, key, game, game_state) -> {"stiffness": |λ|max(∂F(params))}`` for :func:`minimax.train.run`.

    The field is the game's at the record's key (its minibatch, for a stochastic game); the
    Krylov start vector is drawn from ``fold_in(key, 1)``. With ``base`` (e.g.
    ``minimax.train.default_metrics``) its metrics are returned too. Cost per record: one
    linearization of F (≈ one field evaluation, and its residuals in memory) and
    ``krylov_dim`` JVPs of F (≈ 2 field evaluations each), plus O(krylov_dim² n)
    orthogonalization; with ``record_every`` = r that is ≈ 2·krylov_dim/r field evaluations
    per step (0.1 at krylov_dim = 10, r = 200, next to GDA's one per step).
    """
    _check_spectrum_args("stiffness_metric", 1, "LM", krylov_dim)

    def metrics(params, key, game, game_state):
        out = {} if base is None else dict(base(params, key, game, game_state))
        start = None if key is None else jax.random.fold_in(key, 1)
        lam = top_field_eigenvalues(game.field_fn(key, game_state), params, krylov_dim=krylov_dim, key=start)
        out["stiffness"] = jnp.abs(lam[0])
        return out

    return metrics
