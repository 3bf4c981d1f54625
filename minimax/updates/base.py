"""Helpers shared by the update rules: argument checks, the field-function contract, projection.

The contract every rule follows (``update(field, state, params, *, field_fn=None,
projection=None, **extra)``):

* ``field`` is F(p_k); rules that evaluate F elsewhere call ``field_fn(p)``, and
  ``field_fn(p, draw=i)`` for the step's i-th fresh minibatch when they resample
  (:meth:`minimax.Game.field_fn`; draw 0 is the step's own minibatch).
* ``projection`` (passed by :func:`minimax.train.run` for a game with a constraint set) maps
  every intermediate point the rule forms (EG's extrapolation, each alternating half-step)
  onto the set; the run projects p_{k+1} itself.
"""
from __future__ import annotations

from typing import Callable, Optional

import optax

from minimax import validation


def require_field_fn(field_fn, rule: str):
    """Raises the error every rule gives when it needs F elsewhere and has no ``field_fn``."""
    if field_fn is None:
        raise ValueError(
            f"{rule} evaluates the descent field at another point: call "
            f"`update(field, state, params, field_fn=F)` with F(params) -> field "
            f"(for a Game, `field_fn=game.field_fn(key)`)."
        )
    if not callable(field_fn):
        raise TypeError(f"{rule}: `field_fn` must be callable, got {type(field_fn).__name__}")


def require_params(params, rule: str, field=None):
    """The rule got ``params``, and (when given) a ``field`` with the same tree structure and shapes."""
    if params is None:
        raise ValueError(f"{rule} needs the current parameters: call `update(field, state, params, ...)`.")
    if field is not None:
        validation.same_structure(rule, "field", field, "params", params)


def evaluate_at(field_fn: Callable, params, draw: int, resample: bool):
    """F at ``params`` on the step's minibatch, or on its ``draw``-th fresh one when ``resample``."""
    return field_fn(params, draw=draw) if resample else field_fn(params)


def step_to(params, updates, projection: Optional[Callable]):
    """p + u, projected onto the constraint set when ``projection`` is given."""
    new = optax.apply_updates(params, updates)
    return new if projection is None else projection(new)


def scalar_at(value, count):
    """A hyperparameter that is a number or an ``optax.Schedule`` (a function of the step count)."""
    return value(count) if callable(value) else value


def check_positive(name: str, value, *, strict: bool = True, rule: str = "minimax.updates"):
    """A hyperparameter > 0 (>= 0 unless ``strict``) when concrete; traced values and schedules pass through."""
    validation.number(rule, name, value, low=0, low_open=strict, schedule=True)
