"""Argument checks for the public API, in one style.

Every check names the function, the argument, what was expected and what was given, and
raises ``TypeError`` (wrong kind: a tuple for a Players, an integer array, a non-callable) or
``ValueError`` (wrong value: a shape, NaN data, a negative weight).

* **Static checks** (shapes, dtypes, pytree structure) use only what a tracer knows, so they
  hold identically eagerly and under ``jit``/``vmap``.
* **Value checks** (finite data, positive weights, equal masses) run on concrete inputs, before
  any compute, as one reduction on the device (no copy of the data to the host). Inside a
  traced function they are skipped, unless the code runs under :func:`checked`, which turns
  them into ``jax.experimental.checkify`` checks of the traced values.

NaN policy: no public function maps a NaN input to a finite output. Data enter through
:func:`samples` (the sample distances, couplings and evaluation metrics), ``gan_game`` and
``w2_game``, which reject non-finite values when concrete.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import checkify

_MODE = threading.local()


def is_concrete(x) -> bool:
    """True unless ``x`` is (or holds) a tracer of a ``jit``/``vmap``/``grad`` trace."""
    return not any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves(x))


def describe(x) -> str:
    """A short description of a value for error messages: type, dtype and shape, not the data."""
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return f"{type(x).__name__} {x.dtype}{list(x.shape)}"
    text = repr(x)
    return f"{type(x).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


@contextlib.contextmanager
def _traced_checks():
    previous = getattr(_MODE, "on", False)
    _MODE.on = True
    try:
        yield
    finally:
        _MODE.on = previous


def checked(fn: Callable) -> Callable:
    """``checkify.checkify(fn)`` with minimax's value checks active on traced values.

    ``err, out = checked(jax.jit(f))(*args); err.throw()`` raises the first failed check (e.g.
    NaN data inside a jitted sweep). Traced once per call, so use it for debugging, not in a loop.
    """
    def wrapper(*args, **kwargs):
        with _traced_checks():
            return checkify.checkify(fn, errors=checkify.user_checks)(*args, **kwargs)
    return wrapper


def require(ok, message: str, error=ValueError):
    """Raises ``error(message)`` when ``ok`` is False: concrete values now; traced ones under :func:`checked`.

    Whether ``ok`` is concrete is read off the computed predicate itself: under ``jit`` even a
    check of a constant is staged out, and then it is a traced value."""
    if is_concrete(ok):
        if not bool(ok):
            raise error(message)
    elif getattr(_MODE, "on", False):
        checkify.check(jnp.all(ok), message)


def callable_argument(fn: str, name: str, value, *, optional: bool = False):
    if value is None and optional:
        return value
    if not callable(value):
        raise TypeError(f"{fn}: `{name}` must be callable{' or None' if optional else ''}, got {describe(value)}")
    return value


def number(fn: str, name: str, value, *, low=None, high=None, low_open: bool = False, high_open: bool = False,
           schedule: bool = False):
    """A finite real scalar within bounds; traced values pass, and schedules when ``schedule``."""
    if schedule and callable(value):
        return value
    if not is_concrete(value):
        return value
    arr = np.asarray(value)
    if arr.ndim != 0 or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)) \
            or arr.dtype == bool:
        kind = "a real number" + (" or an optax schedule" if schedule else "")
        raise TypeError(f"{fn}: `{name}` must be {kind}, got {describe(value)}")
    v = float(arr)
    bad = not np.isfinite(v) or (low is not None and (v <= low if low_open else v < low)) \
        or (high is not None and (v >= high if high_open else v > high))
    if bad:
        lo = "" if low is None else f"{'(' if low_open else '['}{low}"
        hi = "" if high is None else f"{high}{')' if high_open else ']'}"
        interval = f" in {lo or '(-inf'}, {hi or 'inf)'}" if (low is not None or high is not None) else ""
        raise ValueError(f"{fn}: `{name}` must be a finite number{interval}, got {value!r}")
    return value


def positive_int(fn: str, name: str, value, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{fn}: `{name}` must be an integer >= {minimum}, got {value!r}")
    return int(value)


def real_array(fn: str, name: str, x) -> jax.Array:
    """``x`` as a floating-point array (integers and booleans are converted; complex is rejected)."""
    if isinstance(x, (str, bytes, dict)) or x is None:
        raise TypeError(f"{fn}: `{name}` must be an array of real numbers, got {describe(x)}")
    try:
        arr = jnp.asarray(x)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{fn}: `{name}` must be an array of real numbers, got {describe(x)} ({err})") from None
    if jnp.issubdtype(arr.dtype, jnp.complexfloating):
        raise TypeError(f"{fn}: `{name}` must be real, got complex dtype {arr.dtype}")
    if not jnp.issubdtype(arr.dtype, jnp.number) and arr.dtype != jnp.bool_:
        raise TypeError(f"{fn}: `{name}` must be an array of real numbers, got dtype {arr.dtype}")
    return arr if jnp.issubdtype(arr.dtype, jnp.floating) else arr.astype(jnp.float32)


def finite(fn: str, name: str, x):
    """Rejects NaN/inf in ``x`` (concrete: now, one reduction on the device; traced: under :func:`checked`)."""
    require(jnp.all(jnp.isfinite(x)), f"{fn}: `{name}` has non-finite values (NaN or inf)")
    return x


def samples(fn: str, name: str, x, *, min_samples: int = 1) -> jax.Array:
    """Samples (n, ...) as a finite float (n, d) array: trailing axes flattened, a 1-D array is n scalars."""
    arr = real_array(fn, name, x)
    if arr.ndim == 0 or arr.shape[0] < min_samples:
        raise ValueError(f"{fn}: `{name}` must have a leading sample axis with at least {min_samples} sample(s), "
                         f"got shape {tuple(arr.shape)}")
    flat = arr.reshape(arr.shape[0], -1)
    bad = ~jnp.all(jnp.isfinite(flat), axis=1)
    if is_concrete(bad):
        count = int(jnp.sum(bad))
        if count:
            raise ValueError(f"{fn}: `{name}` has non-finite values (NaN or inf) in {count} sample(s), first at "
                             f"index {int(jnp.argmax(bad))}")
    else:
        require(~jnp.any(bad), f"{fn}: `{name}` has non-finite values (NaN or inf)")
    return flat


def sample_pair(fn: str, x, y, names=("x", "y"), *, min_samples: int = 1):
    """Two sample sets with the same sample shape, each checked by :func:`samples`."""
    x, y = samples(fn, names[0], x, min_samples=min_samples), samples(fn, names[1], y, min_samples=min_samples)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"{fn}: `{names[0]}` and `{names[1]}` must have the same sample shape, got {x.shape[1]} and "
                         f"{y.shape[1]} features")
    return x, y


def weights(fn: str, name: str, w, n: int, *, total: Optional[float] = None) -> jax.Array:
    """Non-negative weights of shape (n,) (uniform when None), summing to ``total`` when given."""
    if w is None:
        return jnp.full((n,), 1.0 / n)
    w = real_array(fn, name, w)
    if w.shape != (n,):
        raise ValueError(f"{fn}: `{name}` must have shape ({n},) to match the points, got {tuple(w.shape)}")
    finite(fn, name, w)
    require(jnp.all(w >= 0), f"{fn}: `{name}` must be non-negative")
    if total is not None:
        require(jnp.abs(jnp.sum(w) - total) <= 1e-5 * max(1.0, abs(total)),
                f"{fn}: `{name}` must sum to {total:g} (the other marginal's mass)")
    return w


def same_structure(fn: str, name: str, tree, reference_name: str, reference):
    """``tree`` has the pytree structure and leaf shapes of ``reference`` (static, holds under jit)."""
    got, want = jax.tree_util.tree_structure(tree), jax.tree_util.tree_structure(reference)
    shapes = lambda t: [tuple(jnp.shape(x)) for x in jax.tree_util.tree_leaves(t)]
    if got != want or shapes(tree) != shapes(reference):
        raise ValueError(f"{fn}: `{name}` must have the structure and shapes of `{reference_name}`, got "
                         f"{got} with shapes {shapes(tree)}, expected {want} with shapes {shapes(reference)}")
    return tree


def prng_key(fn: str, name: str, key):
    """A PRNG key: raw uint32 (2,) from ``jax.random.PRNGKey`` or a typed key from ``jax.random.key``."""
    shape, dtype = jnp.shape(key), jnp.result_type(key)
    if not ((jnp.issubdtype(dtype, jax.dtypes.prng_key) and shape == ()) or (dtype == jnp.uint32 and shape == (2,))):
        raise TypeError(f"{fn}: `{name}` must be a PRNG key (jax.random.PRNGKey(seed) or jax.random.key(seed)), "
                        f"got {describe(key)}")
    return key
