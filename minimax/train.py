"""Training: a pure step, a scanned run that records trajectories, vmapped sweeps.

* :func:`make_step` builds ``step(state, key) -> (state, info)``: one application of
  an update rule to a game's descent field, with divergence detection.
* :func:`run` scans ``steps`` steps in blocks of ``record_every`` and records metrics
  at the end of each block (plus the initial point), never keeping every step.
* :func:`sweep` maps a run over a grid of hyperparameters and a set of seeds inside
  one ``jit``: ``jit(vmap_h(vmap_s(run_one)))``, one compilation for the whole grid.
  The seed axis is batched with ``vmap`` or, with ``seed_batch_size``, with
  ``lax.map`` over batches (whichever wins on the backend), and can be sharded
  across devices (:func:`shard_seeds`).

A seed whose parameters become non-finite is flagged and frozen at its last finite
point; under ``vmap`` the other seeds are unaffected.
"""
from __future__ import annotations

import functools
import itertools
from typing import Any, Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from minimax.game import Game
from minimax.updates.averaging import averaged_params


class TrainState(NamedTuple):
    params: Any
    opt_state: Any
    step: jax.Array           # steps taken (int32)
    diverged: jax.Array       # bool: parameters became non-finite
    diverged_step: jax.Array  # first step with non-finite parameters, −1 if none


class RunResult(NamedTuple):
    params: Any               # final parameters (last finite ones for a diverged run)
    eval_params: Any          # where metrics are evaluated (the averaged iterate under `averaging`)
    trajectory: dict          # metric name -> array with a leading axis of steps // record_every + 1
    diverged: jax.Array
    diverged_step: jax.Array


def tree_all_finite(tree) -> jax.Array:
    leaves = jax.tree_util.tree_leaves(tree)
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves])) if leaves else jnp.array(True)


def init_state(rule: optax.GradientTransformation, params) -> TrainState:
    return TrainState(params, rule.init(params), jnp.zeros([], jnp.int32), jnp.array(False), jnp.array(-1, jnp.int32))


def make_step(game: Game, rule: optax.GradientTransformationExtraArgs) -> Callable:
    """``step(state, key) -> (state, info)`` with ``info = {"field_norm": ‖F(p_k)‖}``.

    The field at p_k and every further evaluation the rule asks for (``field_fn``)
    use the same ``key`` (the same minibatch / latent draw), as extragradient requires.
    """
    def step(state: TrainState, key):
        field_fn = game.field_fn(key)
        field = field_fn(state.params)
        updates, opt_state = rule.update(field, state.opt_state, state.params, field_fn=field_fn)
        params = optax.apply_updates(state.params, updates)
        bad = ~tree_all_finite(params) | state.diverged
        keep = lambda new, old: optax.tree_utils.tree_where(bad, old, new)
        new_state = TrainState(
            params=keep(params, state.params),
            opt_state=keep(opt_state, state.opt_state),
            step=state.step + 1,
            diverged=bad,
            diverged_step=jnp.where(bad & ~state.diverged, state.step + 1, state.diverged_step),
        )
        return new_state, {"field_norm": optax.tree_utils.tree_norm(field)}
    return step


def default_metrics(game: Game) -> Callable:
    """``metrics(eval_params, key)``: the loss L, and ‖p − p*‖ when the game knows p*."""
    def metrics(params, key):
        out = {"loss": game.value(params, key)}
        if game.equilibrium is not None:
            out["distance"] = optax.tree_utils.tree_norm(optax.tree_utils.tree_sub(params, game.equilibrium))
        return out
    return metrics


def _check_steps(steps, record_every):
    if not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"`steps` must be a positive integer, got {steps!r}")
    if not isinstance(record_every, (int, np.integer)) or record_every < 1 or steps % record_every:
        raise ValueError(f"`record_every` must be a positive integer dividing steps={steps}, got {record_every!r}")


def run(game: Game, rule: optax.GradientTransformationExtraArgs, params, key, *, steps: int,
        record_every: Optional[int] = None, metrics: Optional[Callable] = None) -> RunResult:
    """Runs ``steps`` steps of ``rule`` on ``game`` from ``params`` with one ``lax.scan``.

    Args:
      game: the game (its ``field_fn(key)`` is evaluated each step with a key folded
        from ``key`` and the step index).
      rule: an update rule (:mod:`minimax.updates`) or any optax transformation.
      params: the initial :class:`Players`.
      key: PRNG key of this run.
      steps: number of steps T (static).
      record_every: k, record metrics every k steps (static, must divide T); default T.
      metrics: ``metrics(eval_params, key) -> dict of arrays``; default
        :func:`default_metrics`. Evaluated at the averaged iterate when the rule
        averages (:func:`minimax.updates.averaging`).

    Returns:
      A :class:`RunResult`; trajectories have T // k + 1 entries (initial point first).
    """
    record_every = steps if record_every is None else record_every
    _check_steps(steps, record_every)
    metrics = default_metrics(game) if metrics is None else metrics
    step = make_step(game, rule)
    key, eval_key = jax.random.split(key)

    def record(state):
        return metrics(averaged_params(state.opt_state, state.params), eval_key)

    def one(state, _):
        return step(state, jax.random.fold_in(key, state.step))[0], None

    def block(state, _):
        state, _ = lax.scan(one, state, None, length=record_every)
        return state, record(state)

    state = init_state(rule, params)
    first = record(state)
    state, rest = lax.scan(block, state, None, length=steps // record_every)
    trajectory = jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a[None], b]), first, rest)
    return RunResult(state.params, averaged_params(state.opt_state, state.params), trajectory,
                     state.diverged, state.diverged_step)


def hyperparameter_grid(**values) -> dict:
    """The Cartesian product of hyperparameter values as a dict of equal-length float32 arrays.

    ``hyperparameter_grid(lr=[0.1, 0.2], tau=[1, 5])`` has 4 entries, ``tau`` varying fastest.
    """
    if not values:
        raise ValueError("hyperparameter_grid: give at least one hyperparameter")
    for name, v in values.items():
        if np.ndim(v) != 1 or len(v) == 0:
            raise ValueError(f"hyperparameter_grid: `{name}` must be a non-empty 1-D list of values, got {v!r}")
    rows = list(itertools.product(*values.values()))
    return {name: jnp.asarray([r[i] for r in rows], jnp.float32) for i, name in enumerate(values)}


def shard_seeds(keys, devices=None):
    """Places ``keys`` (leading axis = seeds) split across ``devices`` (default: all).

    A jitted sweep then runs each device's share of the seeds on that device
    (``NamedSharding`` over a 1-D mesh with axis ``"seeds"``).
    """
    devices = jax.devices() if devices is None else list(devices)
    if keys.shape[0] % len(devices):
        raise ValueError(f"shard_seeds: the number of seeds ({keys.shape[0]}) must be a multiple of "
                         f"the number of devices ({len(devices)})")
    mesh = Mesh(np.asarray(devices), ("seeds",))
    return jax.device_put(keys, NamedSharding(mesh, PartitionSpec("seeds")))


def compiled_sweep(run_one: Callable, *, seed_batch_size: Optional[int] = None) -> Callable:
    """``jit(vmap_h(vmap_s(run_one)))`` as a reusable function ``(hparams, keys) -> out``.

    Cached per (``run_one``, ``seed_batch_size``): calling :func:`sweep` again with the
    same ``run_one`` reuses the compilation (new shapes still retrace, as with any jit).
    """
    return _compiled_sweep(run_one, seed_batch_size)  # positional: one cache key per (run_one, batch)


# Each entry keeps its run_one, and the data it closes over, alive: keep the cache small.
@functools.lru_cache(maxsize=16)
def _compiled_sweep(run_one, seed_batch_size):
    def over_seeds(hp, ks):
        one = lambda k: run_one(hp, k)
        return jax.vmap(one)(ks) if seed_batch_size is None else lax.map(one, ks, batch_size=seed_batch_size)
    return jax.jit(jax.vmap(over_seeds, in_axes=(0, None)))


def sweep(run_one: Callable, hparams: dict, keys, *, seed_batch_size: Optional[int] = None,
          devices=None):
    """``out[h, s] = run_one(hparams[h], keys[s])`` for every grid point h and seed s, in one jit.

    Args:
      run_one: ``run_one(hp, key) -> pytree``, with ``hp`` a dict of scalars; build the
        update rule *inside* it from ``hp`` so that hyperparameters are traced, not
        baked into the compilation.
      hparams: dict of arrays with a common leading axis H (see :func:`hyperparameter_grid`).
      keys: PRNG keys with leading axis S (``jax.random.split(key, S)``).
      seed_batch_size: None to ``vmap`` all seeds at once; an integer to ``lax.map``
        over batches of that many vmapped seeds (less memory; on some CPUs faster).
      devices: shard the seed axis across these devices (see :func:`shard_seeds`).

    Returns:
      ``run_one``'s output with leading axes (H, S).
    """
    sizes = {name: np.shape(v)[0] if np.ndim(v) else None for name, v in hparams.items()}
    if not sizes or None in sizes.values() or len(set(sizes.values())) != 1:
        raise ValueError(f"sweep: `hparams` must be a dict of arrays with one common leading axis, got sizes {sizes}")
    if seed_batch_size is not None and (seed_batch_size < 1 or keys.shape[0] % seed_batch_size):
        raise ValueError(f"sweep: `seed_batch_size` must divide the number of seeds ({keys.shape[0]}), got {seed_batch_size}")
    if devices is not None:
        keys = shard_seeds(keys, devices)
    return compiled_sweep(run_one, seed_batch_size=seed_batch_size)(hparams, keys)
