"""Training steps and runs: a pure step, and scanned runs that carry their whole state.

* :func:`make_step` builds ``step(state, key) -> (state, stats)``: the game's field at p_k
  (and both losses, in one pass), an optional field transform, one application of an update
  rule, the game's projection, the carried game state, and divergence detection.
* :func:`run` scans ``steps`` steps in blocks of ``record_every``: metrics at the start and at
  the end of every block (the trajectory) and per-step statistics averaged over each block.
  It takes and returns the whole :class:`TrainState`, so ``run(T1)`` then
  ``run(T2, state=...)`` is ``run(T1 + T2)`` bit for bit: the minibatch key of step k is
  ``fold_in(key, k)``, a function of the global step only. Every ``refresh_every`` steps
  (default: every block) the run refreshes the rule's stiffness-adaptive step sizes
  (:func:`minimax.updates.refresh_stiffness`, η = c/|λ|max(∂F) at that point), so their
  schedule depends on ``refresh_every``; the η each step used is its ``step_size`` statistic.

Divergence: a run whose parameters, optimizer state or game state become non-finite is
flagged (``diverged``, ``diverged_step``) and frozen at its last finite state. Under ``vmap``
the flag and the freeze are element-wise selects, so the other members of the batch compute
exactly what they would compute without it.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from minimax import validation
from minimax.fields import with_field_transform
from minimax.game import Game, draw_key
from minimax.updates.averaging import averaged_params
from minimax.updates.base import step_to
from minimax.updates.stiffness import refresh_stiffness, stiffness_step_size

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
        # the freeze: a branch for one run, an element-wise select under vmap
        params, opt_state, game_state = lax.cond(bad, lambda: (state.params, state.opt_state, state.game_state),
                                                 lambda: (params, opt_state, game_state))
        new_state = TrainState(params, opt_state, game_state, state.step + 1, bad,
                               jnp.where(bad & ~state.diverged, state.step + 1, state.diverged_step))
        stats = {"field_norm": tree_norm(evaluation.field), "update_norm": tree_norm(updates),
                 "loss_min": evaluation.loss_min, "loss_max": evaluation.loss_max}
        eta = stiffness_step_size(opt_state)
        if eta is not None:
            stats["step_size"] = eta
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


def _check_refresh(record_every, refresh_every):
    """``refresh_every`` resolved: ``record_every`` for None, else a positive integer dividing it."""
    if refresh_every is None:
        return record_every
    if (isinstance(refresh_every, bool) or not isinstance(refresh_every, (int, np.integer)) or refresh_every < 1
            or record_every % refresh_every):
        raise ValueError(f"`refresh_every` must be a positive integer dividing record_every={record_every}, "
                         f"got {refresh_every!r}")
    return int(refresh_every)


def _record(metrics, game, state, key):
    out = metrics(averaged_params(state.opt_state, state.params), key, game, state.game_state)
    if not isinstance(out, Mapping):
        raise TypeError(f"`metrics` must return a dict of arrays, got {type(out).__name__}")
    return dict(out)


def _mean_over_block(stats):
    return jax.tree_util.tree_map(lambda x: jnp.mean(x, axis=0), stats)


def _refresh_stiffness(game: Game, state: TrainState, keys: _RunKeys) -> TrainState:
    """Every :class:`~minimax.updates.StiffnessState` of the rule set to |λ|max(∂F(p_k)), k = state.step.

    F is the game's field on the minibatch of step k (the ``k_field`` of :func:`make_step`); the
    Krylov start vector is drawn from ``fold_in(k_field, 1)``. Unconditional (no ``lax.cond``: under
    vmap it would be a select running the estimate anyway); a diverged run keeps its frozen state.
    Without a StiffnessState the state is returned as is and nothing is traced.
    """
    k_field, _ = jax.random.split(jax.random.fold_in(keys.steps, state.step))
    field_fn = lambda p: game.evaluate(p, k_field, state.game_state).field
    opt_state = refresh_stiffness(state.opt_state, state.params, field_fn, jax.random.fold_in(k_field, 1))
    if opt_state is state.opt_state:
        return state
    opt_state = jax.tree_util.tree_map(lambda new, old: jnp.where(state.diverged, old, new), opt_state,
                                       state.opt_state)
    return state._replace(opt_state=opt_state)


def _run_blocks(step, game, state, keys: _RunKeys, blocks: int, record_every: int, refresh_every: int, metrics,
                progress):
    """``blocks`` blocks of ``record_every`` steps: (state, records, block-averaged stats).

    Every ``refresh_every`` steps (a divisor of ``record_every``) begin with :func:`_refresh_stiffness` (a
    no-op for rules without a stiffness state).
    """
    def one(state, _):
        return step(state, jax.random.fold_in(keys.steps, state.step))

    def refreshed_steps(state, _):
        return lax.scan(one, _refresh_stiffness(game, state, keys), None, length=refresh_every)

    def block(state, _):
        state, stats = lax.scan(refreshed_steps, state, None, length=record_every // refresh_every)
        stats = jax.tree_util.tree_map(lambda x: x.reshape((record_every,) + x.shape[2:]), stats)
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
        progress: Optional[Callable] = None, remat: bool = False,
        refresh_every: Optional[int] = None) -> RunResult:
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
      remat: rematerialize each step (``jax.checkpoint``) when the run is differentiated:
        reverse mode then stores one state per step instead of every intermediate of every
        step (memory O(T·|state|) instead of O(T·|activations|)), at the price of recomputing
        each step's forward pass.
      refresh_every: r, re-estimate a stiffness-adaptive step (:func:`minimax.updates.scale_by_stiffness`)
        every r steps (static, must divide k); default k, at the start of every record block. Where
        |λ|max grows fast (an unconstrained critic) a small r keeps η_k = c/|λ|max(∂F(p_k)) from going
        stale; each refresh costs ``krylov_dim`` Jacobian-vector products of F.

    Returns:
      A :class:`RunResult`; the trajectory has T // k + 1 entries (the starting point first).

    Examples:
        Extragradient on the zero-infinity Dirac GAN, ‖p_k − p*‖ recorded every 250 steps:

        >>> import jax, optax
        >>> from minimax import games, train, updates
        >>> game = games.dirac_gan("zero_infinity")
        >>> rule = updates.extragradient(optax.sgd(0.2))
        >>> params = game.sample_init(jax.random.PRNGKey(0))
        >>> result = train.run(game, rule, params, jax.random.PRNGKey(1), steps=1000, record_every=250)
        >>> result.trajectory["distance"].shape, bool(result.trajectory["distance"][-1] < 1e-6), bool(result.diverged)
        ((5,), True, False)
    """
    record_every = steps if record_every is None else record_every
    _check_steps(steps, record_every)
    refresh_every = _check_refresh(record_every, refresh_every)
    validation.prng_key("run", "key", key)
    metrics = default_metrics if metrics is None else metrics
    if (state is None) == (params is None):
        raise ValueError("run: give exactly one of `params` (a new run) and `state` (continue a run)")
    keys = _run_keys(key)
    if state is None:
        _check_params(params, "run")
        state = init_state(game, _prepare_rule(rule, field_transform), params, keys.state, project=project)
    step = make_step(game, rule, field_transform=field_transform, project=project)
    step = jax.checkpoint(step) if remat else step
    first = _record(metrics, game, state, keys.eval)
    state, records, stats = _run_blocks(step, game, state, keys, steps // record_every, record_every, refresh_every,
                                        metrics, progress)
    return RunResult(state, averaged_params(state.opt_state, state.params), _stack_first(first, records), stats)
