"""Two-player games, their descent field, and the game record every part of minimax shares.

A game's parameters are one pytree, :class:`Players`, holding the min player first and the
max player second. The **descent field** of a game is

    F(p) = (∇_θ L_θ(p), ∇_w L_w(p)),

each player's gradient of the loss *it minimizes*. For a zero-sum game min_θ max_w L(θ, w)
the max player minimizes L_w = −L, so F = (∇_θ L, −∇_w L). Update rules
(:mod:`minimax.updates`) consume F exactly as optax consumes gradients.

A :class:`Game` is a pytree: its arrays (data, fixed latent codes, targets, the known
equilibrium) are leaves in ``args`` and ``equilibrium``; its functions are static. Its losses
are called as ``loss(params, key, args, state)``, so jitting a function of a game compiles
once for every dataset of a shape, a sweep can vmap over datasets, and nothing large is
baked into a compiled program.

Reference: Mescheder, Nowozin, Geiger, "The numerics of GANs", NeurIPS 2017.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp


class Players(NamedTuple):
    """Parameters of both players: ``min`` (θ, generator) and ``max`` (w, critic)."""

    min: Any
    max: Any


def tree_negate(tree):
    return jax.tree_util.tree_map(jnp.negative, tree)


class FieldEvaluation(NamedTuple):
    """One evaluation of a game at a point: the field, each player's loss, and the losses' aux."""

    field: Players
    loss_min: jax.Array   # L_θ(p)
    loss_max: jax.Array   # L_w(p) (= −L for a zero-sum game)
    aux: Any              # the min player's aux, or (aux_min, aux_max) for a general-sum game; None without


def evaluate_field(loss: Callable, max_loss: Optional[Callable], has_aux: bool, params, *args) -> FieldEvaluation:
    """F(p) with both losses' values in one pass (``jax.value_and_grad``); see :func:`descent_field`."""
    vg = lambda f: jax.value_and_grad(f, has_aux=has_aux)

    def split(out):
        (value, aux), grad = out if has_aux else ((out[0], None), out[1])
        return value, aux, grad

    if max_loss is None:
        value, aux, g = split(vg(loss)(params, *args))
        return FieldEvaluation(Players(g.min, tree_negate(g.max)), value, -value, aux)
    v_min, aux_min, g_min = split(vg(lambda th: loss(Players(th, params.max), *args))(params.min))
    v_max, aux_max, g_max = split(vg(lambda w: max_loss(Players(params.min, w), *args))(params.max))
    return FieldEvaluation(Players(g_min, g_max), v_min, v_max, (aux_min, aux_max) if has_aux else None)


def descent_field(loss: Callable, max_loss: Optional[Callable] = None, *, has_aux: bool = False):
    """Builds ``F(p, *args)`` from a zero-sum loss L or from a pair of losses.

    Args:
      loss: ``loss(params, *args)``, the loss L_θ the min player minimizes. When
        ``max_loss`` is None the game is zero-sum and the max player minimizes −L.
      max_loss: ``max_loss(params, *args)``, the loss L_w the max player minimizes
        (general-sum games such as the non-saturating GAN).
      has_aux: whether the losses return ``(value, aux)``; then the field returns
        ``(F, aux)`` with the min player's aux (and ``(aux_min, aux_max)`` for a
        general-sum game).

    Returns:
      ``field(params, *args) -> Players`` (or ``(Players, aux)``); extra arguments are
      passed through to the losses.
    """
    if not callable(loss):
        raise TypeError(f"descent_field: `loss` must be callable, got {type(loss).__name__}")
    if max_loss is not None and not callable(max_loss):
        raise TypeError(f"descent_field: `max_loss` must be callable or None, got {type(max_loss).__name__}")

    def field(params, *args):
        out = evaluate_field(loss, max_loss, has_aux, params, *args)
        return (out.field, out.aux) if has_aux else out.field
    return field


def draw_key(key, draw: int):
    """The key of the ``draw``-th minibatch of a step: the step's key for draw 0, else fold_in(key, draw)."""
    if key is None or (isinstance(draw, int) and draw == 0):
        return key
    return jax.random.fold_in(key, draw)


@dataclasses.dataclass(frozen=True)
class Game:
    """A two-player game min_θ max_w, as a pytree (``args`` and ``equilibrium`` are its leaves).

    Attributes:
      loss: ``loss(params, key, args, state)``: L for a zero-sum game, or L_θ for a
        general-sum one. Deterministic games ignore ``key``; games without carried state
        ignore ``state``.
      max_loss: ``max_loss(params, key, args, state)``: L_w for a general-sum game; None for zero-sum.
      args: the game's arrays (data, latent codes, matrices): a pytree of leaves, traced
        when the game is a ``jit``/``vmap`` argument.
      equilibrium: a known equilibrium p* (a :class:`Players`), or None.
      has_aux: whether the losses return ``(value, aux)``.
      name: a short identifier.
      sample_init: ``sample_init(key) -> Players``, the distribution of initial points.
      projection: ``projection(params) -> params``, the Euclidean projection onto the
        constraint set (e.g. the Wasserstein critic's |w| <= 1), or None.
        :func:`minimax.train.run` enforces it (see there).
      init_state: ``init_state(params, key, args) -> state``: game state carried by a run
        (BEGAN's k_t, a coupling), or None for a stateless game.
      update_state: ``update_state(state, params, key, args, step, aux) -> state``, called
        after each step with the new parameters p_{k+1}, the step count k + 1 and the aux
        of the losses at p_k; None keeps the state fixed.
    """

    loss: Callable
    max_loss: Optional[Callable] = None
    args: Any = None
    equilibrium: Optional[Players] = None
    has_aux: bool = False
    name: str = "game"
    sample_init: Optional[Callable] = None
    projection: Optional[Callable] = None
    init_state: Optional[Callable] = None
    update_state: Optional[Callable] = None

    def __post_init__(self):
        for name in ("loss", "max_loss", "sample_init", "projection", "init_state", "update_state"):
            value = getattr(self, name)
            if (value is not None or name == "loss") and not callable(value):
                raise TypeError(f"Game: `{name}` must be callable{' or None' if name != 'loss' else ''}, "
                                f"got {type(value).__name__}")
        if self.update_state is not None and self.init_state is None:
            raise ValueError("Game: `update_state` needs `init_state` (the state it updates)")

    def evaluate(self, params, key=None, state=None) -> FieldEvaluation:
        """F(params) with both players' losses and the aux, in one pass."""
        return evaluate_field(self.loss, self.max_loss, self.has_aux, params, key, self.args, state)

    def field(self, params, key=None, state=None):
        """F(params) (with aux when ``has_aux``), the game's descent field."""
        out = self.evaluate(params, key, state)
        return (out.field, out.aux) if self.has_aux else out.field

    def field_fn(self, key=None, state=None) -> Callable:
        """``field_fn(p, draw=0) -> F(p)`` with the key fixed and aux dropped: what update rules call.

        ``draw = i > 0`` evaluates F on the step's i-th fresh minibatch (key fold_in(key, i)),
        for rules that resample (``extragradient(..., resample=True)``, ``alternating``).
        """
        def fn(params, draw: int = 0):
            return self.evaluate(params, draw_key(key, draw), state).field
        return fn

    def value(self, params, key=None, state=None):
        """L_θ(params), the min player's loss (its value without aux)."""
        return self.evaluate(params, key, state).loss_min

    def initial_state(self, params, key=None):
        """The carried game state at ``params`` (None for a stateless game)."""
        return None if self.init_state is None else self.init_state(params, key, self.args)

    def replace(self, **changes) -> "Game":
        """A copy with ``changes`` (e.g. ``game.replace(args=new_data)``)."""
        return dataclasses.replace(self, **changes)


jax.tree_util.register_dataclass(
    Game, data_fields=["args", "equilibrium"],
    meta_fields=["loss", "max_loss", "has_aux", "name", "sample_init", "projection", "init_state", "update_state"])
