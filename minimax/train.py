"""Training: a pure step, scanned runs that carry their whole state, and sweeps over seeds and hyperparameters.

* :func:`make_step` builds ``step(state, key) -> (state, stats)``: the game's field at p_k
  (and both losses, in one pass), an optional field transform, one application of an update
  rule, the game's projection, the carried game state, and divergence detection.
* :func:`run` scans ``steps`` steps in blocks of ``record_every``: metrics at the start and at
  the end of every block (the trajectory) and per-step statistics averaged over each block.
  It takes and returns the whole :class:`TrainState`, so ``run(T1)`` then
  ``run(T2, state=...)`` is ``run(T1 + T2)`` bit for bit: the minibatch key of step k is
  ``fold_in(key, k)``, a function of the global step only.
* :func:`sweep` runs every (hyperparameter, seed) pair of a grid as one flat batch in one
  compiled program per shape (``vmap``, or ``lax.map`` over batches), sharded over the
  local devices, in dispatches of whole blocks; it can checkpoint (orbax), resume, report
  progress and stop cleanly between blocks.

Divergence: a run whose parameters, optimizer state or game state become non-finite is
flagged (``diverged``, ``diverged_step``) and frozen at its last finite state. Under ``vmap``
the flag and the freeze are element-wise selects (``jnp.where``), so the other members of
the batch compute exactly what they would compute without it.
"""
from __future__ import annotations

import collections
import dataclasses
import hashlib
import itertools
import math
from typing import Any, Callable, Mapping, NamedTuple, Optional, Sequence, Union

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax
from jax.sharding import Mesh, PartitionSpec

from minimax import validation
from minimax.fields import with_field_transform
from minimax.game import Game, draw_key
from minimax.updates.averaging import averaged_params
from minimax.updates.base import step_to

Rule = optax.GradientTransformation


class TrainState(NamedTuple):
    """Everything a run needs to continue: checkpoint it, and resume it bit for bit."""

    params: Any
    opt_state: Any
    game_state: Any           # the game's carried state (None for a stateless game)
    step: jax.Array           # steps taken (int32)
    diverged: jax.Array       # bool: parameters, optimizer or game state became non-finite
    diverged_step: jax.Array  # the step whose update was non-finite (1-based), −1 if none


class RunResult(NamedTuple):
    """A run's final state, where its metrics are evaluated, its trajectory and per-block statistics.

    ``trajectory``: metric name -> array with a leading axis of blocks + 1 (the starting point
    first). ``stats``: per-step statistics (``field_norm`` ‖F(p_k)‖, ``update_norm``,
    ``loss_min`` L_θ(p_k), ``loss_max`` L_w(p_k), and the losses' ``aux`` when the game has
    one) averaged over each block, a leading axis of blocks. For a sweep every field has
    leading axes (grid, seeds), or (seeds,) without hyperparameters.
    """

    state: TrainState
    eval_params: Any          # the averaged iterate under `averaging`, else the final parameters
    trajectory: dict
    stats: dict

    @property
    def params(self):
        return self.state.params

    @property
    def diverged(self):
        return self.state.diverged

    @property
    def diverged_step(self):
        return self.state.diverged_step


class Interrupted(Exception):
    """A sweep stopped between blocks at the request of ``stop`` (e.g. Ctrl-C in the CLI)."""

    def __init__(self, step: int, steps: int, directory: Optional[str]):
        self.step, self.steps, self.directory = step, steps, directory
        saved = f"checkpoint saved in {directory}" if directory else "nothing saved (no checkpointing)"
        super().__init__(f"interrupted at step {step} of {steps}; {saved}")


# ----------------------------------------------------------------------------- tree helpers

def _float_leaves(tree):
    return [x for x in jax.tree_util.tree_leaves(tree) if jnp.issubdtype(jnp.result_type(x), jnp.inexact)]


def tree_all_finite(tree) -> jax.Array:
    """True when every floating-point leaf of ``tree`` is finite (integer leaves are ignored)."""
    leaves = _float_leaves(tree)
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves])) if leaves else jnp.array(True)


def tree_norm(tree) -> jax.Array:
    """‖tree‖₂, scaled by the largest magnitude first so that finite trees never overflow to inf."""
    leaves = _float_leaves(tree)
    if not leaves:
        return jnp.zeros([])
    scale = jnp.max(jnp.stack([jnp.max(jnp.abs(x), initial=0.0) for x in leaves]))
    safe = jnp.where(scale > 0, scale, 1.0)
    norm = jnp.sqrt(sum(jnp.sum(jnp.square(x / safe)) for x in leaves))
    return jnp.where(scale > 0, safe * norm, 0.0)


def _check_params(params, where: str):
    from minimax.game import Players
    if not isinstance(params, Players):
        raise TypeError(f"{where}: `params` must be a minimax.Players(min, max), got {validation.describe(params)}")
    ints = [jnp.result_type(x) for x in jax.tree_util.tree_leaves(params)
            if not jnp.issubdtype(jnp.result_type(x), jnp.inexact)]
    if ints:
        raise TypeError(f"{where}: every leaf of `params` must be floating-point, got dtypes {sorted(set(map(str, ints)))}")


# ----------------------------------------------------------------------------- the step

def _prepare_rule(rule, field_transform):
    if not isinstance(rule, optax.GradientTransformation):
        raise TypeError(f"`rule` must be an optax GradientTransformation (an update rule), got {type(rule).__name__}")
    return rule if field_transform is None else with_field_transform(rule, field_transform)


def _projection(game: Game, project: bool):
    return game.projection if project else None


def init_state(game: Game, rule: Rule, params, key=None, *, project: bool = True) -> TrainState:
    """The state of a run about to start at ``params`` (projected onto the game's constraint set).

    ``key`` draws the game's initial state when it has one (e.g. a first coupling).
    """
    projection = _projection(game, project)
    params = params if projection is None else projection(params)
    return TrainState(params, rule.init(params), game.initial_state(params, key), jnp.zeros([], jnp.int32),
                      jnp.array(False), jnp.array(-1, jnp.int32))


def make_step(game: Game, rule: Rule, *, field_transform: Optional[Callable] = None,
              project: bool = True) -> Callable:
    """``step(state, key) -> (state, stats)``, one step of ``rule`` on ``game``.

    ``key`` is the step's key: F(p_k) and every further evaluation the rule asks for
    (``field_fn(p)``) use the step's minibatch, ``field_fn(p, draw=i)`` its i-th fresh one.
    With ``project`` (the default) the game's projection P is passed to the rule, which
    projects its intermediate points (EG's extrapolation, alternating half-steps), and
    p_{k+1} = P(p_k + u_k). ``project=False`` opts out (the constraint set is then ignored).
    """
    rule = _prepare_rule(rule, field_transform)
    projection = _projection(game, project)

    def step(state: TrainState, key):
        k_field, k_game = jax.random.split(key)
        evaluation = game.evaluate(state.params, k_field, state.game_state)

        def field_fn(params, draw: int = 0):
            return game.evaluate(params, draw_key(k_field, draw), state.game_state).field

        updates, opt_state = rule.update(evaluation.field, state.opt_state, state.params, field_fn=field_fn,
                                         projection=projection)
        params = step_to(state.params, updates, projection)
        game_state = state.game_state
        if game.update_state is not None:
            game_state = game.update_state(state.game_state, params, k_game, game.args, state.step + 1, evaluation.aux)
        bad = state.diverged | ~(tree_all_finite(params) & tree_all_finite(opt_state) & tree_all_finite(game_state))
        keep = lambda new, old: optax.tree_utils.tree_where(bad, old, new)
        new_state = TrainState(keep(params, state.params), keep(opt_state, state.opt_state),
                               keep(game_state, state.game_state), state.step + 1, bad,
                               jnp.where(bad & ~state.diverged, state.step + 1, state.diverged_step))
        stats = {"field_norm": tree_norm(evaluation.field), "update_norm": tree_norm(updates),
                 "loss_min": evaluation.loss_min, "loss_max": evaluation.loss_max}
        if game.has_aux:
            stats["aux"] = evaluation.aux
        return new_state, stats

    return step


# ----------------------------------------------------------------------------- runs

def default_metrics(params, key, game: Game, game_state) -> dict:
    """The loss L_θ, and ‖p − p*‖ when the game knows its equilibrium p*."""
    out = {"loss": game.value(params, key, game_state)}
    if game.equilibrium is not None:
        out["distance"] = tree_norm(optax.tree_utils.tree_sub(params, game.equilibrium))
    return out


class _RunKeys(NamedTuple):
    steps: jax.Array  # step k uses fold_in(steps, k)
    eval: jax.Array   # metrics at every record
    state: jax.Array  # the game's initial state


def _run_keys(key) -> _RunKeys:
    return _RunKeys(*jax.random.split(key, 3))


def _check_steps(steps, record_every):
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"`steps` must be a positive integer, got {steps!r}")
    if not isinstance(record_every, (int, np.integer)) or record_every < 1 or steps % record_every:
        raise ValueError(f"`record_every` must be a positive integer dividing steps={steps}, got {record_every!r}")


def _record(metrics, game, state, key):
    out = metrics(averaged_params(state.opt_state, state.params), key, game, state.game_state)
    if not isinstance(out, Mapping):
        raise TypeError(f"`metrics` must return a dict of arrays, got {type(out).__name__}")
    return dict(out)


def _mean_over_block(stats):
    return jax.tree_util.tree_map(lambda x: jnp.mean(x, axis=0), stats)


def _run_blocks(step, game, state, keys: _RunKeys, blocks: int, record_every: int, metrics, progress):
    """``blocks`` blocks of ``record_every`` steps: (state, records, block-averaged stats)."""
    def one(state, _):
        return step(state, jax.random.fold_in(keys.steps, state.step))

    def block(state, _):
        state, stats = lax.scan(one, state, None, length=record_every)
        if progress is not None:
            jax.debug.callback(progress, state.step, state.diverged)
        return state, (_record(metrics, game, state, keys.eval), _mean_over_block(stats))

    state, (records, stats) = lax.scan(block, state, None, length=blocks)
    return state, records, stats


def _stack_first(first, rest):
    return jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a[None], b]), first, rest)


def run(game: Game, rule: Rule, params, key, *, steps: int, record_every: Optional[int] = None,
        metrics: Optional[Callable] = None, state: Optional[TrainState] = None,
        field_transform: Optional[Callable] = None, project: bool = True,
        progress: Optional[Callable] = None) -> RunResult:
    """Runs ``steps`` steps of ``rule`` on ``game`` with one ``lax.scan``; jittable and vmappable.

    Args:
      game: the game (a pytree; its arrays are traced when ``game`` is a jit argument).
      rule: an update rule (:mod:`minimax.updates`) or any optax transformation.
      params: the initial :class:`~minimax.Players`, or None when continuing ``state``.
      key: PRNG key of this run: split into the step keys (step k: ``fold_in(·, k)``), the
        metrics key and the key of the game's initial state. Draw initial parameters from
        another key.
      steps: number of steps T (static).
      record_every: k, record metrics every k steps (static, must divide T); default T.
      metrics: ``metrics(eval_params, key, game, game_state) -> dict of arrays``; default
        :func:`default_metrics`. Evaluated at the averaged iterate when the rule averages
        (:func:`minimax.updates.averaging`).
      state: a :class:`TrainState` to continue (from ``RunResult.state``); then ``params``
        must be None. Continue with the same ``key`` to reproduce a longer run bit for bit.
      field_transform: ``transform(field_fn) -> field_fn`` between the game and the rule
        (:mod:`minimax.fields`: consensus, SGA, Hamiltonian).
      project: enforce the game's projection (default); False opts out.
      progress: ``progress(step, diverged)`` called on the host at the end of every block
        (``jax.debug.callback``; under ``vmap`` once per member); off by default.

    Returns:
      A :class:`RunResult`; the trajectory has T // k + 1 entries (the starting point first).
    """
    record_every = steps if record_every is None else record_every
    _check_steps(steps, record_every)
    validation.prng_key("run", "key", key)
    metrics = default_metrics if metrics is None else metrics
    if (state is None) == (params is None):
        raise ValueError("run: give exactly one of `params` (a new run) and `state` (continue a run)")
    keys = _run_keys(key)
    if state is None:
        _check_params(params, "run")
        state = init_state(game, _prepare_rule(rule, field_transform), params, keys.state, project=project)
    step = make_step(game, rule, field_transform=field_transform, project=project)
    first = _record(metrics, game, state, keys.eval)
    state, records, stats = _run_blocks(step, game, state, keys, steps // record_every, record_every, metrics, progress)
    return RunResult(state, averaged_params(state.opt_state, state.params), _stack_first(first, records), stats)


# ----------------------------------------------------------------------------- hyperparameter grids

def hyperparameter_grid(**values) -> dict:
    """The Cartesian product of hyperparameter values as a dict of equal-length arrays.

    ``hyperparameter_grid(lr=[0.1, 0.2], M=[1, 5])`` has 4 entries, ``M`` varying fastest.
    Integer values stay integers (int32, e.g. alternating GDA's number of critic steps),
    booleans stay booleans, others become float32.
    """
    if not values:
        raise ValueError("hyperparameter_grid: give at least one hyperparameter")
    for name, v in values.items():
        if np.ndim(v) != 1 or len(v) == 0:
            raise ValueError(f"hyperparameter_grid: `{name}` must be a non-empty 1-D list of values, got {v!r}")
    rows = list(itertools.product(*values.values()))
    return {name: _grid_column(name, [r[i] for r in rows]) for i, name in enumerate(values)}


def _grid_column(name: str, column) -> jax.Array:
    arr = np.asarray(column)
    if arr.dtype == bool:
        return jnp.asarray(arr)
    if np.issubdtype(arr.dtype, np.integer):
        return jnp.asarray(arr, jnp.int32)
    if np.issubdtype(arr.dtype, np.floating):
        return jnp.asarray(arr, jnp.float32)
    raise TypeError(f"hyperparameter `{name}` must hold numbers or booleans, got {arr.dtype} values {column!r}")


def _as_grid(hparams) -> tuple[dict, Optional[int]]:
    """``hparams`` as a dict of (H,) arrays and H, or ({}, None) for a seeds-only sweep."""
    if hparams is None or (isinstance(hparams, Mapping) and not hparams):
        return {}, None
    if not isinstance(hparams, Mapping):
        raise TypeError(f"sweep: `hparams` must be a dict of equal-length value lists, got {type(hparams).__name__}")
    grid = {k: v if isinstance(v, jax.Array) else _grid_column(k, v) for k, v in hparams.items()}
    sizes = {k: (np.shape(v)[0] if np.ndim(v) == 1 else None) for k, v in grid.items()}
    if None in sizes.values() or len(set(sizes.values())) != 1 or 0 in sizes.values():
        raise ValueError(f"sweep: `hparams` must be a dict of non-empty 1-D arrays with one common length "
                         f"(see hyperparameter_grid), got sizes {sizes}")
    return grid, next(iter(sizes.values()))


# ----------------------------------------------------------------------------- compiled programs

_COMPILED: "collections.OrderedDict[str, Any]" = collections.OrderedDict()
_COMPILED_MAX = 32
compile_stats = {"hits": 0, "misses": 0}


def compiled(fn: Callable, *args) -> Callable:
    """``jax.jit(fn)`` for arguments shaped like ``args``, compiled once per distinct program.

    ``fn`` is traced on every call (so a changed global it reads is always seen) and the
    executable of the program on the flattened arguments is cached under the SHA-256 of
    its lowered StableHLO text and the arguments' shardings: the key is the program itself,
    so it cannot go stale, and one compilation serves every dataset of a shape (data are
    arguments, not constants) and every rebuilt game with the same computation. Returns
    ``call(*args)`` for arguments with the same shapes and structure as ``args``.
    """
    leaves, treedef = jax.tree_util.tree_flatten(args)
    out_trees = []

    def flat_fn(*xs):
        out, out_tree = jax.tree_util.tree_flatten(fn(*jax.tree_util.tree_unflatten(treedef, xs)))
        out_trees.append(out_tree)
        return out

    lowered = jax.jit(flat_fn).lower(*leaves)
    shardings = "|".join(str(getattr(x, "sharding", None)) for x in leaves)
    key = hashlib.sha256((lowered.as_text() + shardings).encode()).hexdigest()
    if key in _COMPILED:
        compile_stats["hits"] += 1
        _COMPILED.move_to_end(key)
    else:
        compile_stats["misses"] += 1
        _COMPILED[key] = lowered.compile()
        while len(_COMPILED) > _COMPILED_MAX:
            _COMPILED.popitem(last=False)
    executable, out_tree = _COMPILED[key], out_trees[0]

    def call(*call_args):
        return jax.tree_util.tree_unflatten(out_tree, executable(*jax.tree_util.tree_leaves(call_args)))
    return call


# ----------------------------------------------------------------------------- sweeps

STRATEGIES = ("auto", "vmap", "map")


@dataclasses.dataclass(frozen=True)
class Checkpointing:
    """Where and how often a sweep saves its state with orbax-checkpoint.

    Attributes:
      directory: the checkpoint directory (one per sweep).
      every: save every this many blocks (and always at the end and when stopped).
      resume: continue from the latest checkpoint in ``directory`` when there is one.
      overwrite: when not resuming, discard a checkpoint found in ``directory`` (otherwise
        that is an error, so that no run is lost by accident).
      config: a JSON-able dict describing the run (e.g. the command-line arguments); a
        resume whose config differs fails before any compute, naming the differing keys.
    """

    directory: str
    every: int = 10
    resume: bool = False
    overwrite: bool = False
    config: Mapping = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.every, (int, np.integer)) or self.every < 1:
            raise ValueError(f"Checkpointing: `every` must be a positive number of blocks, got {self.every!r}")


def _devices(devices):
    if devices is None:
        return jax.local_devices()
    devices = list(devices)
    if not devices:
        raise ValueError("sweep: `devices` must name at least one device")
    return devices


def _batched(fn: Callable, strategy: str, batch_size: Optional[int], batched_game: bool):
    """fn(game, *xs) mapped over the leading axis of every x (and of the game's leaves when
    ``batched_game``): vmap, or lax.map in batches of vmapped members."""
    if strategy == "vmap":
        return lambda game, *xs: jax.vmap(fn, in_axes=(0 if batched_game else None,) + (0,) * len(xs))(game, *xs)
    if batched_game:
        return lambda game, *xs: lax.map(lambda x: fn(*x), (game,) + xs, batch_size=batch_size)
    return lambda game, *xs: lax.map(lambda x: fn(game, *x), xs, batch_size=batch_size)


def _sharded(fn: Callable, devices, batched_game: bool):
    """fn over the batch axis split across ``devices`` (shard_map; an unbatched game is replicated)."""
    if len(devices) == 1:
        return fn
    mesh = Mesh(np.asarray(devices), ("batch",))
    spec = PartitionSpec("batch")
    game_spec = spec if batched_game else PartitionSpec()
    return lambda game, *xs: jax.shard_map(fn, mesh=mesh, in_specs=(game_spec,) + (spec,) * len(xs),
                                           out_specs=spec, check_vma=False)(game, *xs)


def _resolve_strategy(strategy: str, batch_size: Optional[int], n: int, n_devices: int):
    if strategy not in STRATEGIES:
        raise ValueError(f"sweep: `strategy` must be one of {STRATEGIES}, got {strategy!r}")
    if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or batch_size < 1):
        raise ValueError(f"sweep: `batch_size` must be a positive integer or None, got {batch_size!r}")
    if strategy == "auto":
        strategy = "vmap"
    if strategy == "map" and batch_size is not None and (n // n_devices) % batch_size:
        raise ValueError(f"sweep: `batch_size` ({batch_size}) must divide the runs per device ({n // n_devices})")
    return strategy, batch_size


def _take(tree, index):
    return jax.tree_util.tree_map(lambda x: x[index], tree)


def _reshape_leading(tree, shape):
    return jax.tree_util.tree_map(lambda x: np.asarray(x).reshape(shape + np.shape(x)[1:]), tree)


def sweep(game: Game, rule: Union[Rule, Callable], hparams: Optional[Mapping] = None, keys=None, *, steps: int,
          record_every: Optional[int] = None, metrics: Optional[Callable] = None, init: Optional[Callable] = None,
          field_transform: Optional[Callable] = None, project: bool = True, state: Optional[TrainState] = None,
          strategy: str = "auto", batch_size: Optional[int] = None, devices: Optional[Sequence] = None,
          checkpoint: Optional[Checkpointing] = None, progress: Optional[Callable] = None,
          stop: Optional[Callable[[], bool]] = None, seed_games: bool = False) -> RunResult:
    """:func:`run` for every hyperparameter point h and seed s, as one flat batch in one compiled program.

    ``out[h, s]`` is ``run(game, rule(hparams[h]), init(k_init), k_run, ...)`` with
    ``k_init, k_run = split(keys[s])``: the initial point and the run draw from different keys.

    Args:
      game: the game, a traced argument of the program (one compilation per shape).
      rule: an update rule, or ``rule(hp) -> rule`` with ``hp`` a dict of traced scalars
        (build the rule from ``hp`` so a sweep over them compiles once).
      hparams: a dict of equal-length value lists (see :func:`hyperparameter_grid`), or None
        for a seeds-only sweep.
      keys: PRNG keys with leading axis S (``jax.random.split(key, S)``).
      steps, record_every, metrics, field_transform, project: as for :func:`run`.
      init: ``init(key) -> params``; default ``game.sample_init``.
      state: a :class:`TrainState` with the sweep's leading axes, to continue a sweep
        (``previous.state``); use the same ``keys``.
      strategy: ``"vmap"`` (all runs of a device at once), ``"map"`` (``lax.map`` over
        batches of ``batch_size`` vmapped runs; default 1), or ``"auto"`` (vmap).
      devices: devices to split the batch across (default all local devices; the batch is
        padded to a multiple of their number).
      checkpoint: :class:`Checkpointing` (orbax) to save every few blocks and resume.
      progress: ``progress(step, steps, diverged_runs)`` called on the host after every block.
      stop: polled after every block; when it returns True the sweep saves its checkpoint
        (if any) and raises :class:`Interrupted`.
      seed_games: every leaf of ``game`` has a leading axis of S, one game per seed (each
        seed its own dataset or latent set); otherwise all runs share ``game``.

    Returns:
      A :class:`RunResult` whose fields have leading axes (H, S), or (S,) without
      hyperparameters; trajectories and statistics as NumPy arrays.
    """
    record_every = steps if record_every is None else record_every
    _check_steps(steps, record_every)
    if not isinstance(game, Game):
        raise TypeError(f"sweep: `game` must be a minimax.Game, got {type(game).__name__}")
    make_rule = rule if callable(rule) else (lambda hp: rule)
    if not callable(rule) and not isinstance(rule, optax.GradientTransformation):
        raise TypeError(f"sweep: `rule` must be an update rule or a function hp -> rule, got {type(rule).__name__}")
    init = game.sample_init if init is None else init
    if state is None and not callable(init):
        raise ValueError("sweep: give `init` (key -> params) or a game with `sample_init`")
    metrics = default_metrics if metrics is None else metrics
    if keys is None:
        raise ValueError("sweep: `keys` is required (jax.random.split(jax.random.PRNGKey(seed), S))")
    keys = jnp.asarray(keys)
    if keys.ndim != 2 or keys.shape[1:] != (2,) or keys.dtype != jnp.uint32:
        raise TypeError(f"sweep: `keys` must be raw PRNG keys of shape (S, 2) uint32 (jax.random.split), "
                        f"got {keys.dtype}{list(keys.shape)}")
    grid, n_grid = _as_grid(hparams)
    n_seeds = keys.shape[0]
    lead = (n_seeds,) if n_grid is None else (n_grid, n_seeds)
    n = math.prod(lead)
    devices = _devices(devices)
    padded = -(-n // len(devices)) * len(devices)
    strategy, batch_size = _resolve_strategy(strategy, batch_size, padded, len(devices))

    # the flat batch: run i has grid point i // S and seed i % S; padding repeats run 0
    index = np.concatenate([np.arange(n), np.zeros(padded - n, int)])
    hp_flat = {k: jnp.repeat(v, n_seeds)[index] for k, v in grid.items()}
    keys_flat = jnp.tile(keys, (n_grid or 1, 1))[index]
    if seed_games:
        sizes = {np.shape(x)[0] if np.ndim(x) else None for x in jax.tree_util.tree_leaves(game)}
        if sizes != {n_seeds}:
            raise ValueError(f"sweep: with `seed_games` every leaf of the game needs a leading axis of {n_seeds} "
                             f"(one per seed), got leading sizes {sorted(sizes, key=str)}")
        game = jax.tree_util.tree_map(lambda x: x[np.tile(np.arange(n_seeds), n_grid or 1)[index]], game)
    blocks = steps // record_every
    per_call = 1 if (checkpoint is not None or progress is not None or stop is not None) else blocks

    def batch_program(fn):
        return _sharded(_batched(fn, strategy, batch_size, seed_games), devices, seed_games)

    def init_one(game, hp, key):
        k_init, k_run = jax.random.split(key)
        params = init(k_init)
        _check_params(params, "sweep (init)")
        s = init_state(game, _prepare_rule(make_rule(hp), field_transform), params, _run_keys(k_run).state,
                       project=project)
        return s, _record(metrics, game, s, _run_keys(k_run).eval)

    def blocks_one(count):
        def fn(game, hp, key, s):
            keys_run = _run_keys(jax.random.split(key)[1])
            step = make_step(game, make_rule(hp), field_transform=field_transform, project=project)
            return _run_blocks(step, game, s, keys_run, count, record_every, metrics, None)
        return fn

    saver = _Saver(checkpoint, lead, steps, record_every, grid) if checkpoint is not None else None
    resume_from = saver.latest() if saver is not None else None
    if resume_from is not None:
        flat_state, history = saver.restore(resume_from, *_abstract_history(
            batch_program(init_one), batch_program(blocks_one(1)), game, hp_flat, keys_flat, n, resume_from))
        flat_state = jax.tree_util.tree_map(lambda x: jnp.asarray(x)[index], flat_state)
    else:
        if state is not None:
            flat_state = jax.tree_util.tree_map(lambda x: jnp.asarray(x).reshape((n,) + jnp.shape(x)[len(lead):])[index],
                                                state)
            record_one = lambda g, hp, key, st: _record(metrics, g, st, _run_keys(jax.random.split(key)[1]).eval)
            first = compiled(batch_program(record_one), game, hp_flat, keys_flat, flat_state)(
                game, hp_flat, keys_flat, flat_state)
        else:
            flat_state, first = compiled(batch_program(init_one), game, hp_flat, keys_flat)(game, hp_flat, keys_flat)
        history = _History(_take(_host(first), slice(0, n)))

    done, programs = history.blocks, {}
    while done < blocks:
        count = min(per_call, blocks - done)
        if count not in programs:
            programs[count] = compiled(batch_program(blocks_one(count)), game, hp_flat, keys_flat, flat_state)
        flat_state, records, stats = programs[count](game, hp_flat, keys_flat, flat_state)
        history.add(_host(records), _host(stats), n, count)
        done += count
        diverged = int(np.sum(np.asarray(flat_state.diverged)[:n]))
        due = saver is not None and (done % checkpoint.every == 0 or done == blocks)
        if due:
            saver.save(done, _take(flat_state, np.arange(n)), history)
        if progress is not None:
            progress(done * record_every, steps, diverged)
        if stop is not None and done < blocks and stop():
            if saver is not None and not due:
                saver.save(done, _take(flat_state, np.arange(n)), history)
            raise Interrupted(done * record_every, steps, checkpoint.directory if checkpoint else None)

    final = _take(flat_state, np.arange(n))
    eval_params = jax.jit(jax.vmap(lambda s: averaged_params(s.opt_state, s.params)))(final)
    unflat = lambda tree: jax.tree_util.tree_map(lambda x: jnp.reshape(x, lead + jnp.shape(x)[1:]), tree)
    trajectory, stats = history.result()
    return RunResult(unflat(final), unflat(eval_params), _reshape_leading(trajectory, lead),
                     _reshape_leading(stats, lead))


def _abstract_history(init_program, block_program, game, hp_flat, keys_flat, n, blocks_done):
    """Shapes of the saved (unpadded) state, first record, records and stats after ``blocks_done`` blocks."""
    state, first = jax.eval_shape(init_program, game, hp_flat, keys_flat)
    _, records, stats = jax.eval_shape(block_program, game, hp_flat, keys_flat, state)
    rows = lambda t: jax.ShapeDtypeStruct((n,) + t.shape[1:], t.dtype)
    blocks = lambda t: jax.ShapeDtypeStruct((n, blocks_done) + t.shape[2:], t.dtype)
    tree_map = jax.tree_util.tree_map
    return tree_map(rows, state), tree_map(rows, first), tree_map(blocks, records), tree_map(blocks, stats)


def _host(tree):
    return jax.tree_util.tree_map(np.asarray, tree)


class _History:
    """Trajectory and statistics of a sweep so far, on the host: (runs, blocks, ...) arrays."""

    def __init__(self, first, records=None, stats=None, blocks: int = 0):
        self.first, self.blocks = first, blocks
        self.records = [] if records is None else [records]
        self.stats = [] if stats is None else [stats]

    def add(self, records, stats, n, count):
        self.records.append(_take(records, slice(0, n)))
        self.stats.append(_take(stats, slice(0, n)))
        self.blocks += count

    def result(self):
        cat = lambda parts: jax.tree_util.tree_map(lambda *xs: np.concatenate(xs, axis=1), *parts)
        trajectory = cat([jax.tree_util.tree_map(lambda x: np.asarray(x)[:, None], self.first)] + self.records)
        return trajectory, (cat(self.stats) if self.stats else {})


class _Saver:
    """orbax checkpoints of a sweep: the flat state, the history so far and a JSON description."""

    def __init__(self, checkpoint: Checkpointing, lead, steps, record_every, grid):
        from minimax import checkpoint as ckpt
        self.ckpt, self.checkpoint = ckpt, checkpoint
        self.meta = {"config": ckpt.plain(dict(checkpoint.config)),
                     "sweep": {"runs": list(lead), "steps": steps, "record_every": record_every,
                               "hparams": ckpt.plain(grid)}}
        self.manager = ckpt.manager(checkpoint.directory)

    def latest(self) -> Optional[int]:
        """The blocks done by the checkpoint to resume (checked against this sweep), or None to start."""
        latest = self.manager.latest_step()
        if latest is None:
            return None
        if not self.checkpoint.resume:
            if not self.checkpoint.overwrite:
                raise ValueError(f"sweep: {self.checkpoint.directory} holds a checkpoint ({latest} blocks done); "
                                 f"pass Checkpointing(resume=True) to continue it or overwrite=True to discard it")
            self.ckpt.clear(self.manager)
            return None
        self.ckpt.check_same(self.ckpt.restore_meta(self.manager, latest), self.meta, self.checkpoint.directory)
        return latest

    def restore(self, blocks_done: int, state, first, records, stats):
        """State and history from the checkpoint, in the structures of the given abstract values."""
        template = {"first": first, "records": records, "stats": stats}
        state, history = self.ckpt.restore_arrays(self.manager, blocks_done, state, template)
        return state, _History(*(_host(history[k]) for k in ("first", "records", "stats")), blocks=blocks_done)

    def save(self, blocks_done, state, history):
        trajectory, stats = history.result()
        records = jax.tree_util.tree_map(lambda x: x[:, 1:], trajectory)
        self.ckpt.save(self.manager, blocks_done, state, history.first, records, stats, self.meta)
