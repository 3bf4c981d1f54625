"""Two-player games and their descent field.

A game's parameters are one pytree, :class:`Players`, holding the min player
first and the max player second. The **descent field** of a game is

    F(p) = (∇_θ L_θ(p), ∇_w L_w(p)),

each player's gradient of the loss *it minimizes*. For a zero-sum game
min_θ max_w L(θ, w) the max player minimizes L_w = −L, so F = (∇_θ L, −∇_w L).
Update rules (:mod:`minimax.updates`) consume F exactly as optax consumes
gradients.

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


def descent_field(loss: Callable, max_loss: Optional[Callable] = None, *, has_aux: bool = False):
    """Builds F(p, *args) from a zero-sum loss L or from a pair of losses.

    Args:
      loss: ``loss(params, *args)``, the loss L_θ the min player minimizes. When
        ``max_loss`` is None the game is zero-sum and the max player minimizes −L.
      max_loss: ``max_loss(params, *args)``, the loss L_w the max player minimizes
        (general-sum games such as the non-saturating GAN).
      has_aux: whether the losses return ``(value, aux)``; then the field returns
        ``(F, aux)`` with the min player's aux (and ``(aux_min, aux_max)`` for a
        general-sum game).

    Returns:
      ``field(params, *args) -> Players`` (or ``(Players, aux)``). Extra arguments
      such as a PRNG key for a stochastic game are passed through to the losses.
    """
    if not callable(loss):
        raise TypeError(f"descent_field: `loss` must be callable, got {type(loss).__name__}")
    if max_loss is not None and not callable(max_loss):
        raise TypeError(f"descent_field: `max_loss` must be callable or None, got {type(max_loss).__name__}")
    grad = lambda f: jax.grad(f, has_aux=has_aux)

    if max_loss is None:
        def field(params, *args):
            out = grad(loss)(params, *args)
            g, aux = out if has_aux else (out, None)
            f = Players(g.min, tree_negate(g.max))
            return (f, aux) if has_aux else f
    else:
        def field(params, *args):
            out_min = grad(lambda th: loss(Players(th, params.max), *args))(params.min)
            out_max = grad(lambda w: max_loss(Players(params.min, w), *args))(params.max)
            if not has_aux:
                return Players(out_min, out_max)
            return Players(out_min[0], out_max[0]), (out_min[1], out_max[1])
    return field


@dataclasses.dataclass(frozen=True)
class Game:
    """A two-player game min_θ max_w, as data.

    Attributes:
      loss: ``loss(params, key)``: L for a zero-sum game, or L_θ for a general-sum one.
        Deterministic games ignore ``key``.
      max_loss: ``max_loss(params, key)``: L_w for a general-sum game; None for zero-sum.
      has_aux: whether the losses return ``(value, aux)``.
      name: a short identifier.
      equilibrium: a known equilibrium p* (a :class:`Players`), or None.
      sample_init: ``sample_init(key) -> Players``, the distribution of initial points.
      projection: ``projection(params) -> params``, the Euclidean projection onto the
        constraint set (e.g. the Wasserstein critic's |w| <= 1), or None.
    """

    loss: Callable
    max_loss: Optional[Callable] = None
    has_aux: bool = False
    name: str = "game"
    equilibrium: Optional[Players] = None
    sample_init: Optional[Callable] = None
    projection: Optional[Callable] = None

    def field(self, params, key=None):
        """F(params) (with aux when ``has_aux``), the game's descent field."""
        return descent_field(self.loss, self.max_loss, has_aux=self.has_aux)(params, key)

    def field_fn(self, key=None) -> Callable:
        """``p -> F(p)`` with the key fixed and aux dropped: what update rules call."""
        def fn(params):
            out = self.field(params, key)
            return out[0] if self.has_aux else out
        return fn

    def value(self, params, key=None):
        """L(params) (the min player's loss; its value without aux)."""
        out = self.loss(params, key)
        return out[0] if self.has_aux else out
