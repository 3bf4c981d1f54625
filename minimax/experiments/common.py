"""Command-line conventions shared by the experiments: one-line usage errors and argument checks."""
from __future__ import annotations

import math
from functools import partial
from typing import Iterable, Mapping, Optional

import optax

#: ``--optimizer`` choices of the GAN experiments: name -> (learning rate -> transformation).
OPTIMIZERS = {"sgd": optax.sgd, "adam": partial(optax.adam, b1=0.5)}


class UsageError(ValueError):
    """A bad command-line argument; the CLI prints it as one line and exits with status 2."""


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def fill_defaults(args, defaults: Mapping, quick: Optional[Mapping] = None):
    """Sets every argument left at None from ``quick`` (when ``args.quick``) or ``defaults``."""
    for name, value in (quick if quick is not None and getattr(args, "quick", False) else defaults).items():
        if getattr(args, name) is None:
            setattr(args, name, value)


def require_positive_ints(args, *names: str, minimum: int = 1):
    for name in names:
        values = getattr(args, name)
        if any(v < minimum for v in (values if isinstance(values, list) else [values])):
            raise UsageError(f"{_flag(name)} must be >= {minimum}, got {values}")


def require_positive_floats(args, *names: str):
    """Each named argument (a number or a list of numbers) must be finite and > 0."""
    for name in names:
        values = getattr(args, name)
        if any(not (v > 0 and math.isfinite(v)) for v in (values if isinstance(values, list) else [values])):
            raise UsageError(f"{_flag(name)} must be finite and > 0, got {values}")


def require_known(kind: str, values: Iterable[str], known: Iterable[str]):
    known = list(known)
    unknown = [v for v in values if v not in known]
    if unknown:
        raise UsageError(f"unknown {kind}(s) {unknown}; expected among {known}")
