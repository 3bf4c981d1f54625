"""Sweeps: every (hyperparameter, seed) pair of a grid as one flat batch of runs in one compiled program.

Layout. The H grid points × S seeds are one batch axis of N = H·S runs (run i: grid point
i // S, seed i % S), split over the devices (``shard_map`` on a 1-D mesh, padded to a multiple
of their number; with several processes, the devices of all of them) and, on each device,
batched by ``vmap`` or by ``lax.map`` over batches of vmapped runs (sequential for
``batch_size=None``). ``strategy="auto"`` chooses per backend: vmap on accelerators and for
small runs, and on CPU a short timed probe of vmap against the sequential map, remembered per
program and batch size (:data:`auto_choices`).

Dispatch. The program runs whole blocks of ``record_every`` steps; with checkpoints, progress
or a stop request it runs one block per dispatch, so a sweep can report after every block,
save with orbax (:class:`Checkpointing`) and stop cleanly (:class:`Interrupted`).
"""
from __future__ import annotations

import dataclasses
import itertools
import math
import time
from typing import Callable, Mapping, Optional, Sequence, Union

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from minimax.game import Game
from minimax.train.compile import compiled
from minimax.train.run import (Rule, RunResult, TrainState, _check_params, _check_refresh, _check_steps, _prepare_rule,
                               _record, _run_blocks, _run_keys, default_metrics, init_state, make_step)
from minimax.updates.averaging import averaged_params

STRATEGIES = ("auto", "vmap", "map")

#: ``strategy="auto"`` probes only on CPU, for runs whose step costs at least this many FLOPs
#: (XLA's count); smaller runs are dominated by per-step overhead, which vmap amortizes.
AUTO_PROBE_MIN_FLOPS = 2e6
#: Steps of the probe programs.
AUTO_PROBE_STEPS = 4
#: (program fingerprint, runs per device) -> (strategy, batch_size) chosen by the probe.
auto_choices: dict = {}


class Interrupted(Exception):
    """A sweep stopped between blocks at the request of ``stop`` (e.g. Ctrl-C in the CLI)."""

    def __init__(self, step: int, steps: int, directory: Optional[str]):
        self.step, self.steps, self.directory = step, steps, directory
        saved = f"checkpoint saved in {directory}" if directory else "nothing saved (no checkpointing)"
        super().__init__(f"interrupted at step {step} of {steps}; {saved}")


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


# ----------------------------------------------------------------------------- layout on devices

def _devices(devices):
    if devices is None:
        return jax.devices()  # with several processes: the devices of all of them
    devices = list(devices)
    if not devices:
        raise ValueError("sweep: `devices` must name at least one device")
    return devices


def _batched(fn: Callable, strategy: str, batch_size: Optional[int], batched_game: bool):
    """fn(game, *xs) mapped over the leading axis of every x (and of the game's leaves when
    ``batched_game``): vmap, or lax.map (sequential, or over batches of ``batch_size`` vmapped runs)."""
    if strategy == "vmap":
        return lambda game, *xs: jax.vmap(fn, in_axes=(0 if batched_game else None,) + (0,) * len(xs))(game, *xs)
    if batched_game:
        return lambda game, *xs: lax.map(lambda x: fn(*x), (game,) + xs, batch_size=batch_size)
    return lambda game, *xs: lax.map(lambda x: fn(game, *x), xs, batch_size=batch_size)


class _Layout:
    """The flat batch on the devices: a mesh, the shardings, and moving trees on and off it."""

    def __init__(self, devices, batched_game: bool):
        self.devices, self.batched_game = devices, batched_game
        self.mesh = Mesh(np.asarray(devices), ("batch",))
        self.batch = NamedSharding(self.mesh, PartitionSpec("batch"))
        self.replicated = NamedSharding(self.mesh, PartitionSpec())
        self.processes = len({d.process_index for d in devices})

    def program(self, fn: Callable, strategy: str, batch_size: Optional[int]) -> Callable:
        """fn over the batch axis split across the devices (``shard_map``; an unbatched game is replicated)."""
        local = _batched(fn, strategy, batch_size, self.batched_game)
        if len(self.devices) == 1:
            return local
        spec = PartitionSpec("batch")
        game_spec = spec if self.batched_game else PartitionSpec()
        return lambda game, *xs: jax.shard_map(local, mesh=self.mesh, in_specs=(game_spec,) + (spec,) * len(xs),
                                               out_specs=spec, check_vma=False)(game, *xs)

    def put(self, tree, batched: bool):
        """Places host or device values on the mesh (a global array across processes)."""
        if len(self.devices) == 1:
            return tree
        sharding = self.batch if batched else self.replicated
        if self.processes == 1:
            return jax.device_put(tree, sharding)
        return jax.tree_util.tree_map(lambda x: jax.make_array_from_callback(
            np.shape(x), sharding, lambda index, x=np.asarray(x): x[index]), tree)

    def host(self, tree):
        """NumPy copies of batch-sharded values, gathered from every process."""
        if self.processes == 1:
            return jax.tree_util.tree_map(np.asarray, tree)
        from jax.experimental import multihost_utils
        return jax.tree_util.tree_map(np.asarray, multihost_utils.process_allgather(tree, tiled=True))


def _resolve_strategy(strategy: str, batch_size: Optional[int], per_device: int):
    if strategy not in STRATEGIES:
        raise ValueError(f"sweep: `strategy` must be one of {STRATEGIES}, got {strategy!r}")
    if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or batch_size < 1):
        raise ValueError(f"sweep: `batch_size` must be a positive integer or None, got {batch_size!r}")
    if strategy == "map" and batch_size is not None and per_device % batch_size:
        raise ValueError(f"sweep: `batch_size` ({batch_size}) must divide the runs per device ({per_device})")


def _take(tree, index):
    return jax.tree_util.tree_map(lambda x: x[index], tree)


def _reshape_leading(tree, shape):
    return jax.tree_util.tree_map(lambda x: np.asarray(x).reshape(shape + np.shape(x)[1:]), tree)


# ----------------------------------------------------------------------------- the sweep

class PreparedSweep:
    """A sweep laid out on the devices, ready to run: its flat inputs and its programs.

    :func:`sweep` drives one (blocks, checkpoints, progress); benchmarks use it to time the
    very programs a sweep runs, compiled once (:meth:`blocks_program`). Arguments as for
    :func:`sweep`.
    """

    def __init__(self, game: Game, rule: Union[Rule, Callable], hparams: Optional[Mapping] = None, keys=None, *,
                 steps: int, record_every: Optional[int] = None, metrics: Optional[Callable] = None,
                 init: Optional[Callable] = None, field_transform: Optional[Callable] = None, project: bool = True,
                 strategy: str = "auto", batch_size: Optional[int] = None, devices: Optional[Sequence] = None,
                 seed_games: bool = False, needs_init: bool = True, refresh_every: Optional[int] = None):
        record_every = steps if record_every is None else record_every
        _check_steps(steps, record_every)
        self.refresh_every = _check_refresh(record_every, refresh_every)
        if not isinstance(game, Game):
            raise TypeError(f"sweep: `game` must be a minimax.Game, got {type(game).__name__}")
        if not callable(rule) and not isinstance(rule, optax.GradientTransformation):
            raise TypeError(f"sweep: `rule` must be an update rule or a function hp -> rule, got {type(rule).__name__}")
        self.make_rule = rule if callable(rule) else (lambda hp: rule)
        self.init = game.sample_init if init is None else init
        if needs_init and not callable(self.init):
            raise ValueError("sweep: give `init` (key -> params) or a game with `sample_init`")
        if keys is None:
            raise ValueError("sweep: `keys` is required (jax.random.split(jax.random.PRNGKey(seed), S))")
        keys = jnp.asarray(keys)
        if keys.ndim != 2 or keys.shape[1:] != (2,) or keys.dtype != jnp.uint32:
            raise TypeError(f"sweep: `keys` must be raw PRNG keys of shape (S, 2) uint32 (jax.random.split), "
                            f"got {keys.dtype}{list(keys.shape)}")
        self.metrics = default_metrics if metrics is None else metrics
        self.field_transform, self.project = field_transform, project
        self.steps, self.record_every, self.blocks = steps, record_every, steps // record_every
        self.grid, n_grid = _as_grid(hparams)
        n_seeds = keys.shape[0]
        self.lead = (n_seeds,) if n_grid is None else (n_grid, n_seeds)
        self.n = math.prod(self.lead)
        self.layout = _Layout(_devices(devices), seed_games)
        padded = -(-self.n // len(self.layout.devices)) * len(self.layout.devices)
        self.per_device = padded // len(self.layout.devices)
        _resolve_strategy(strategy, batch_size, self.per_device)
        self.strategy, self.batch_size = strategy, batch_size

        # the flat batch: run i has grid point i // S and seed i % S; padding repeats run 0
        self.index = np.concatenate([np.arange(self.n), np.zeros(padded - self.n, int)])
        grid_of_run = np.repeat(np.arange(n_grid or 1), n_seeds)[self.index]
        seed_of_run = np.tile(np.arange(n_seeds), n_grid or 1)[self.index]
        self.hp = self.layout.put({k: np.asarray(v)[grid_of_run] for k, v in self.grid.items()}, True)
        self.keys = self.layout.put(np.asarray(keys)[seed_of_run], True)
        if seed_games:
            sizes = {np.shape(x)[0] if np.ndim(x) else None for x in jax.tree_util.tree_leaves(game)}
            if sizes != {n_seeds}:
                raise ValueError(f"sweep: with `seed_games` every leaf of the game needs a leading axis of {n_seeds} "
                                 f"(one per seed), got leading sizes {sorted(sizes, key=str)}")
            game = jax.tree_util.tree_map(lambda x: np.asarray(x)[seed_of_run], game)
        self.game = self.layout.put(game, seed_games)

    # --- one run, written for the batch programs

    def _init_one(self, game, hp, key):
        k_init, k_run = jax.random.split(key)
        params = self.init(k_init)
        _check_params(params, "sweep (init)")
        rule = _prepare_rule(self.make_rule(hp), self.field_transform)
        s = init_state(game, rule, params, _run_keys(k_run).state, project=self.project)
        return s, _record(self.metrics, game, s, _run_keys(k_run).eval)

    def _record_one(self, game, hp, key, s):
        return _record(self.metrics, game, s, _run_keys(jax.random.split(key)[1]).eval)

    def _step(self, game, hp):
        return make_step(game, self.make_rule(hp), field_transform=self.field_transform, project=self.project)

    def _blocks_one(self, count: int, record_every: int):
        refresh_every = math.gcd(record_every, self.refresh_every)  # the probe's blocks refresh as often

        def fn(game, hp, key, s):
            return _run_blocks(self._step(game, hp), game, s, _run_keys(jax.random.split(key)[1]), count,
                               record_every, refresh_every, self.metrics, None)
        return fn

    # --- the batch programs

    def initial(self):
        """(flat state, first record on the host) of new runs."""
        program = compiled(self.layout.program(self._init_one, "vmap", None), self.game, self.hp, self.keys)
        state, first = program(self.game, self.hp, self.keys)
        return state, _take(self.layout.host(first), slice(0, self.n))

    def continued(self, state):
        """(flat state, first record) continuing ``state`` (leading axes of the sweep's result)."""
        lead = len(self.lead)
        state = self.layout.put(jax.tree_util.tree_map(
            lambda x: np.asarray(x).reshape((self.n,) + np.shape(x)[lead:])[self.index], state), True)
        program = compiled(self.layout.program(self._record_one, "vmap", None), self.game, self.hp, self.keys, state)
        return state, _take(self.layout.host(program(self.game, self.hp, self.keys, state)), slice(0, self.n))

    def blocks_program(self, count: int, state, *, strategy: Optional[str] = None, batch_size=None,
                       record_every: Optional[int] = None):
        """The compiled program ``(game, hp, keys, state) -> (state, records, stats)`` of ``count`` blocks."""
        strategy = strategy or self.strategy
        fn = self._blocks_one(count, record_every or self.record_every)
        return compiled(self.layout.program(fn, strategy, batch_size), self.game, self.hp, self.keys, state)

    def run(self, program, state):
        """Calls a program of :meth:`blocks_program` on the sweep's inputs."""
        return program(self.game, self.hp, self.keys, state)

    def resolve_strategy(self, state):
        """(strategy, batch_size): the given one, or for ``"auto"`` the choice described in the module doc."""
        if self.strategy != "auto":
            return self.strategy, self.batch_size
        if jax.default_backend() != "cpu" or self.per_device < 2 or self.step_flops(state) < AUTO_PROBE_MIN_FLOPS:
            return "vmap", None
        probe = {("vmap", None): self.blocks_program(1, state, strategy="vmap", record_every=AUTO_PROBE_STEPS)}
        key = (probe[("vmap", None)].fingerprint, self.per_device)
        if key not in auto_choices:
            probe[("map", None)] = self.blocks_program(1, state, strategy="map", record_every=AUTO_PROBE_STEPS)
            times = {}
            for name, program in probe.items():
                jax.block_until_ready(self.run(program, state))  # warm-up
                start = time.perf_counter()
                jax.block_until_ready(self.run(program, state))
                times[name] = time.perf_counter() - start
            auto_choices[key] = min(times, key=times.get)
        return auto_choices[key]

    def step_flops(self, state) -> float:
        """XLA's FLOP count of one run's step (before optimization; no compilation)."""
        one = lambda tree: jax.tree_util.tree_map(lambda x: x[0], tree)
        game = one(self.game) if self.layout.batched_game else self.game
        lowered = jax.jit(lambda g, hp, s: self._step(g, hp)(s, jax.random.PRNGKey(0))).lower(
            game, one(self.hp), one(state))
        cost = lowered.cost_analysis()
        cost = cost[0] if isinstance(cost, (list, tuple)) else cost
        return float((cost or {}).get("flops", 0.0))

    def result(self, state, history: "_History") -> RunResult:
        """The :class:`~minimax.train.RunResult` with the sweep's leading axes."""
        final = _take(state if self.layout.processes == 1 else self.layout.host(state), np.arange(self.n))
        eval_params = jax.jit(jax.vmap(lambda s: averaged_params(s.opt_state, s.params)))(final)
        unflat = lambda tree: jax.tree_util.tree_map(lambda x: jnp.reshape(x, self.lead + jnp.shape(x)[1:]), tree)
        trajectory, stats = history.result()
        return RunResult(unflat(final), unflat(eval_params), _reshape_leading(trajectory, self.lead),
                         _reshape_leading(stats, self.lead))


def sweep(game: Game, rule: Union[Rule, Callable], hparams: Optional[Mapping] = None, keys=None, *, steps: int,
          record_every: Optional[int] = None, metrics: Optional[Callable] = None, init: Optional[Callable] = None,
          field_transform: Optional[Callable] = None, project: bool = True, state: Optional[TrainState] = None,
          strategy: str = "auto", batch_size: Optional[int] = None, devices: Optional[Sequence] = None,
          checkpoint: Optional[Checkpointing] = None, progress: Optional[Callable] = None,
          stop: Optional[Callable[[], bool]] = None, seed_games: bool = False,
          refresh_every: Optional[int] = None) -> RunResult:
    """:func:`minimax.train.run` for every hyperparameter point h and seed s, as one flat batch in one program.

    ``out[h, s]`` is ``run(game, rule(hparams[h]), init(k_init), k_run, ...)`` with
    ``k_init, k_run = split(keys[s])``: the initial point and the run draw from different keys.

    Args:
      game: the game, a traced argument of the program (one compilation per shape).
      rule: an update rule, or ``rule(hp) -> rule`` with ``hp`` a dict of traced scalars
        (build the rule from ``hp`` so a sweep over them compiles once).
      hparams: a dict of equal-length value lists (see :func:`hyperparameter_grid`), or None
        for a seeds-only sweep.
      keys: PRNG keys with leading axis S (``jax.random.split(key, S)``).
      steps, record_every, metrics, field_transform, project, refresh_every: as for
        :func:`minimax.train.run`.
      init: ``init(key) -> params``; default ``game.sample_init``.
      state: a :class:`TrainState` with the sweep's leading axes, to continue a sweep
        (``previous.state``); use the same ``keys``.
      strategy: ``"vmap"`` (all runs of a device at once), ``"map"`` (``lax.map``: sequential,
        or over batches of ``batch_size`` vmapped runs), or ``"auto"`` (see the module doc).
      devices: devices to split the batch across (default all devices of all processes).
      checkpoint: :class:`Checkpointing` (orbax) to save every few blocks and resume.
      progress: ``progress(step, steps, diverged_runs)`` called on the host after every block.
      stop: polled after every block; when it returns True the sweep saves its checkpoint
        (if any) and raises :class:`Interrupted`.
      seed_games: every leaf of ``game`` has a leading axis of S, one game per seed (each
        seed its own dataset or latent set); otherwise all runs share ``game``.

    Returns:
      A :class:`~minimax.train.RunResult` whose fields have leading axes (H, S), or (S,)
      without hyperparameters; trajectories and statistics as NumPy arrays. The other runs of
      the batch are bit-identical whether or not one of them diverges (it is frozen by a select).

    Examples:
        Two-timescale extragradient on the Dirac GAN for 4 (η, τ) pairs × 8 seeds, one program:

        >>> import jax, optax
        >>> from minimax import games, train, updates
        >>> game = games.dirac_gan("zero_infinity")
        >>> def rule(hp):  # hp["lr"] and hp["tau"] arrive traced
        ...     return updates.extragradient(updates.timescaled(optax.sgd(hp["lr"]), hp["tau"]))
        >>> grid = train.hyperparameter_grid(lr=[0.1, 0.2], tau=[1.0, 4.0])
        >>> keys = jax.random.split(jax.random.PRNGKey(0), 8)
        >>> out = train.sweep(game, rule, grid, keys, steps=2000, record_every=500)
        >>> out.trajectory["distance"].shape, int(out.diverged.sum())
        ((4, 8, 5), 0)
        >>> (out.trajectory["distance"][:, :, -1] < 1e-3).sum(axis=1)  # converged seeds; slowest at η = 0.1, τ = 4
        array([8, 0, 8, 8])
    """
    prepared = PreparedSweep(game, rule, hparams, keys, steps=steps, record_every=record_every, metrics=metrics,
                             init=init, field_transform=field_transform, project=project, strategy=strategy,
                             batch_size=batch_size, devices=devices, seed_games=seed_games,
                             needs_init=state is None, refresh_every=refresh_every)
    layout, n = prepared.layout, prepared.n
    if checkpoint is not None and layout.processes > 1:
        raise ValueError("sweep: checkpoints are not supported across several processes (yet); pass checkpoint=None")
    saver = _Saver(checkpoint, prepared) if checkpoint else None
    resume_from = saver.latest() if saver is not None else None
    if resume_from is not None:
        flat_state, history = saver.restore(resume_from, *_abstract_history(prepared, resume_from))
        flat_state = layout.put(_take(flat_state, prepared.index), True)
    else:
        flat_state, first = prepared.initial() if state is None else prepared.continued(state)
        history = _History(first)
    strategy, batch_size = prepared.resolve_strategy(flat_state)
    per_call = 1 if (checkpoint is not None or progress is not None or stop is not None) else prepared.blocks

    done, programs = history.blocks, {}
    while done < prepared.blocks:
        count = min(per_call, prepared.blocks - done)
        if count not in programs:
            programs[count] = prepared.blocks_program(count, flat_state, strategy=strategy, batch_size=batch_size)
        flat_state, records, stats = prepared.run(programs[count], flat_state)
        history.add(layout.host(records), layout.host(stats), n, count)
        done += count
        due = saver is not None and (done % checkpoint.every == 0 or done == prepared.blocks)
        if due:
            saver.save(done, _take(flat_state, np.arange(n)), history)
        if progress is not None:
            progress(done * prepared.record_every, steps, int(np.sum(layout.host(flat_state.diverged)[:n])))
        if stop is not None and done < prepared.blocks and stop():
            if saver is not None and not due:
                saver.save(done, _take(flat_state, np.arange(n)), history)
            raise Interrupted(done * prepared.record_every, steps, checkpoint.directory if checkpoint else None)
    return prepared.result(flat_state, history)


# ----------------------------------------------------------------------------- history and checkpoints

def _abstract_history(prepared: PreparedSweep, blocks_done: int):
    """Shapes of the saved (unpadded) state, first record, records and stats after ``blocks_done`` blocks."""
    layout, args = prepared.layout, (prepared.game, prepared.hp, prepared.keys)
    state, first = jax.eval_shape(layout.program(prepared._init_one, "vmap", None), *args)
    fn = layout.program(prepared._blocks_one(1, prepared.record_every), "vmap", None)
    _, records, stats = jax.eval_shape(fn, *args, state)
    rows = lambda t: jax.ShapeDtypeStruct((prepared.n,) + t.shape[1:], t.dtype)
    blocks = lambda t: jax.ShapeDtypeStruct((prepared.n, blocks_done) + t.shape[2:], t.dtype)
    tree_map = jax.tree_util.tree_map
    return tree_map(rows, state), tree_map(rows, first), tree_map(blocks, records), tree_map(blocks, stats)


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

    def __init__(self, checkpoint: Checkpointing, prepared: PreparedSweep):
        from minimax import checkpoint as ckpt
        self.ckpt, self.checkpoint = ckpt, checkpoint
        self.meta = {"config": ckpt.plain(dict(checkpoint.config)),
                     "sweep": {"runs": list(prepared.lead), "steps": prepared.steps,
                               "record_every": prepared.record_every, "refresh_every": prepared.refresh_every,
                               "hparams": ckpt.plain(prepared.grid)}}
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
        host = lambda tree: jax.tree_util.tree_map(np.asarray, tree)
        return host(state), _History(*(host(history[k]) for k in ("first", "records", "stats")), blocks=blocks_done)

    def save(self, blocks_done, state, history):
        trajectory, stats = history.result()
        records = jax.tree_util.tree_map(lambda x: x[:, 1:], trajectory)
        self.ckpt.save(self.manager, blocks_done, state, history.first, records, stats, self.meta)
