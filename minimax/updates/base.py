"""Helpers shared by the update rules: argument checks and the field-function contract."""
from __future__ import annotations

import jax
import numpy as np


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


def require_params(params, rule: str):
    if params is None:
        raise ValueError(f"{rule} needs the current parameters: call `update(field, state, params, ...)`.")


def check_positive(name: str, value, *, strict: bool = True):
    """Checks a hyperparameter when it is concrete; traced values (sweeps) pass through."""
    if isinstance(value, jax.core.Tracer):
        return
    arr = np.asarray(value)
    bad = (arr <= 0) if strict else (arr < 0)
    if not np.all(np.isfinite(arr)) or np.any(bad):
        need = "> 0" if strict else ">= 0"
        raise ValueError(f"`{name}` must be finite and {need}, got {value!r}")
