"""A stiffness-adaptive step size: η_k = c / |λ|max(∂F(p_k)), refreshed by the run at block starts.

The descent field's Jacobian ∂F(p) sets the largest stable step of an explicit rule: EG's
linearized factor on an eigenvalue λ of ∂F is 1 − ηλ + η²λ², of modulus < 1 for every λ of
the closed right half-plane (a monotone game) when η|λ| < 1 (on the imaginary axis
|1 − z + z²|² = 1 − |z|² + |z|⁴, z = iη|λ|; see :func:`minimax.diagnostics.suggest_step_size`),
and GDA's factor 1 − ηλ has modulus < 1 iff η < 2 Re λ / |λ|². The stiffness |λ|max of ∂F is
the scale of both bounds, so η = c / |λ|max with c = 0.5 sits at half of EG's limit on the
stiffest direction, whatever the game's units.

:func:`scale_by_stiffness` multiplies the updates by c / |λ|max; |λ|max lives in its state and
is re-estimated matrix-free (Arnoldi on v ↦ ∂F(p) v, :func:`minimax.diagnostics.top_field_eigenvalues`)
by :func:`refresh_stiffness`, which :func:`minimax.train.run` and :func:`minimax.train.sweep`
call at the start of every block of ``record_every`` steps. Between refreshes the step is fixed.

References: Mescheder, Nowozin, Geiger, "The numerics of GANs", NeurIPS 2017 (the eigenvalues
of the game Jacobian bound the stable step sizes); Gidel, Berard, Vignoud, Vincent,
Lacoste-Julien, "A variational inequality perspective on generative adversarial networks",
ICLR 2019 (extragradient with a step ≤ 1/L, L the field's Lipschitz constant).
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from minimax import validation

_RULE = "scale_by_stiffness"


@functools.partial(jax.tree_util.register_dataclass, data_fields=["c", "max_step", "stiffness"], meta_fields=["krylov_dim"])
@dataclasses.dataclass(frozen=True)
class StiffnessState:
    """The state of :func:`scale_by_stiffness`: c, the last |λ|max(∂F) and the (static) Krylov size.

    A pytree whose leaves are ``c`` and ``stiffness``; ``krylov_dim`` is static (part of the tree
    structure), so the state goes through ``jit``, ``vmap``, ``lax.scan`` and orbax checkpoints
    like a NamedTuple of arrays, and :func:`refresh_stiffness` knows the Krylov size to use.
    """

    c: jax.Array          # the constant c of the last update (traceable)
    max_step: jax.Array   # the cap η_max on c/|λ|max (the dtype's largest finite number: none)
    stiffness: jax.Array  # |λ|max(∂F) at the last refresh; NaN before the first one
    krylov_dim: int = 10  # static: the Krylov space of the refresh's Arnoldi

    @property
    def step_size(self) -> jax.Array:
        """η = min(c / |λ|max, η_max), the scale applied to the updates (NaN before the first refresh)."""
        return jnp.minimum(self.c / self.stiffness, self.max_step)

    def _replace(self, **changes) -> "StiffnessState":
        return dataclasses.replace(self, **changes)


def _is_state(x) -> bool:
    return isinstance(x, StiffnessState)


def _states(opt_state) -> list:
    return [x for x in jax.tree_util.tree_leaves(opt_state, is_leaf=_is_state) if _is_state(x)]


def _float_dtype(params):
    leaves = [x for x in jax.tree_util.tree_leaves(params) if jnp.issubdtype(jnp.result_type(x), jnp.inexact)]
    return jnp.result_type(*leaves) if leaves else jnp.float32


def _check(c, krylov_dim):
    validation.number(_RULE, "c", c, low=0, low_open=True)
    if isinstance(krylov_dim, bool) or not isinstance(krylov_dim, (int, np.integer)):
        raise TypeError(f"{_RULE}: `krylov_dim` must be an integer >= 2 (static), got {validation.describe(krylov_dim)}")
    if krylov_dim < 2:
        raise ValueError(f"{_RULE}: `krylov_dim` must be an integer >= 2 (one Krylov vector gives the Rayleigh "
                         f"quotient, 0 for a rotation field), got {krylov_dim!r}")
    return int(krylov_dim)


def _cap(max_step, dtype):
    """η_max as an array; no cap is the dtype's largest finite number (the run flags a non-finite state as diverged)."""
    return jnp.asarray(jnp.finfo(dtype).max if max_step is None else max_step, dtype)


def scale_by_stiffness(c=0.5, *, max_step=None, krylov_dim: int = 10) -> optax.GradientTransformation:
    """u ↦ η_k · u with the stiffness-adaptive step size η_k = min(c / |λ|max(∂F(p_k)), η_max).

    |λ|max is the largest modulus of an eigenvalue of the game Jacobian ∂F at the last
    refresh: EG is linearly stable on a monotone game for η|λ| < 1 (factor 1 − ηλ + η²λ²),
    GDA needs η < 2 Re λ / |λ|² on every eigenvalue λ, so c = 0.5 is half of EG's limit on
    the stiffest direction. The transformation only scales; :func:`refresh_stiffness`
    re-estimates |λ|max matrix-free (Arnoldi with ``krylov_dim`` Krylov vectors on
    Jacobian-vector products of F, :func:`minimax.diagnostics.top_field_eigenvalues`), and
    :func:`minimax.train.run` and :func:`minimax.train.sweep` call it for you at the start of
    every block of ``record_every`` steps (every ``refresh_every`` steps when given), on the
    field of that step. The schedule of η therefore depends on ``refresh_every``; each step's
    η is the run's ``step_size`` statistic.

    Before any refresh the stiffness is NaN, so an update that was never refreshed is NaN: a
    forgotten refresh (a hand-written loop over :func:`minimax.train.make_step`) fails loudly
    at the first step (the run flags it as diverged) instead of silently not moving. A
    refresh at a point where ∂F = 0 gives η = inf, also flagged.

    Use it where a learning rate goes (``optax.sgd``'s): :func:`stiffness_sgd` is
    ``chain(scale_by_stiffness(c), scale(−1))``; put it *before* Λ_τ,
    ``updates.timescaled(stiffness_sgd(c), τ)``, to give the generator η/τ. The estimate is
    of the game's field F (before any ``field_transform`` of the run).

    Args:
      c: the constant c > 0 (a number, traceable in a sweep; not a schedule).
      max_step: η_max > 0, a cap on the step (default None: no cap). Where the field flattens (a
        saturated sigmoid, a vanishing critic) |λ|max → 0 and c/|λ|max would grow without
        bound; the cap keeps the step in the range where the estimate was made.
      krylov_dim: Krylov space size (static, >= 2) of the refresh's Arnoldi; with
        ``krylov_dim`` >= the number of parameters the estimate is exact. Under
        ``optax.inject_hyperparams`` name it static: ``static_args=("krylov_dim",)``.
    """
    krylov_dim = _check(c, krylov_dim)
    if max_step is not None:
        validation.number(_RULE, "max_step", max_step, low=0, low_open=True)

    def init(params):
        dtype = _float_dtype(params)
        return StiffnessState(jnp.asarray(c, dtype), _cap(max_step, dtype), jnp.full([], jnp.nan, dtype),
                              krylov_dim)

    def update(updates, state, params=None):
        del params
        state = state._replace(c=jnp.asarray(c, state.c.dtype), max_step=_cap(max_step, state.c.dtype))
        eta = state.step_size
        return jax.tree_util.tree_map(lambda u: eta.astype(u.dtype) * u, updates), state

    return optax.GradientTransformation(init, update)


def stiffness_sgd(c=0.5, *, max_step=None, krylov_dim: int = 10) -> optax.GradientTransformation:
    """SGD with the stiffness-adaptive step η_k = min(c / |λ|max(∂F(p_k)), η_max): u = −η_k F.

    ``chain(scale_by_stiffness(c, krylov_dim=...), scale(−1))``; the inner transformation of
    any rule in place of ``optax.sgd(η)`` (see :func:`scale_by_stiffness`).

    Examples:
        Extragradient at half its stability limit on the zero-infinity Dirac GAN (∂F has
        eigenvalues ±i, so η = 0.5):

        >>> import jax
        >>> from minimax import games, train, updates
        >>> game = games.dirac_gan("zero_infinity")
        >>> rule = updates.extragradient(updates.stiffness_sgd(0.5))
        >>> result = train.run(game, rule, game.sample_init(jax.random.PRNGKey(0)), jax.random.PRNGKey(1),
        ...                    steps=200, record_every=50)
        >>> float(result.state.opt_state.inner_state[0].step_size), bool(result.trajectory["distance"][-1] < 1e-6)
        (0.5, True)
    """
    return optax.chain(scale_by_stiffness(c, max_step=max_step, krylov_dim=krylov_dim), optax.scale(-1.0))


def stiffness_step_size(opt_state):
    """η = min(c/|λ|max, η_max) of the first :class:`StiffnessState` in ``opt_state`` (the step its last
    update applied), or None for a rule without one."""
    found = _states(opt_state)
    return found[0].step_size if found else None


def refresh_stiffness(opt_state, params, field_fn: Callable, key=None):
    """``opt_state`` with every :class:`StiffnessState` in it set to |λ|max(∂F(params)).

    One estimate per distinct ``krylov_dim`` (:func:`minimax.diagnostics.top_field_eigenvalues`,
    ``which="LM"``, start vector from ``key``), shared by every state of that size (EG's inner
    state, both of alternating GDA's). With no :class:`StiffnessState` in ``opt_state`` it is
    returned as is and ``field_fn`` is never called, so calling this for any rule costs nothing.
    Jittable and vmappable; the estimate is cast to each state's dtype.
    """
    from minimax.diagnostics import top_field_eigenvalues

    found = _states(opt_state)
    if not found:
        return opt_state
    estimate = {}
    for dim in sorted({s.krylov_dim for s in found}):
        lam = top_field_eigenvalues(field_fn, params, k=1, which="LM", krylov_dim=dim, key=key)
        estimate[dim] = jnp.abs(lam[0])

    def refreshed(x):
        return x._replace(stiffness=estimate[x.krylov_dim].astype(x.stiffness.dtype)) if _is_state(x) else x

    return jax.tree_util.tree_map(refreshed, opt_state, is_leaf=_is_state)
