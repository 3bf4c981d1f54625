"""Checkpoints of sweeps with orbax-checkpoint (the JAX ecosystem's checkpoint library).

A checkpoint of a sweep (:class:`minimax.train.Checkpointing`) is one orbax step per save,
numbered by the blocks done, holding three items: ``state`` (the flat batch of
:class:`minimax.train.TrainState`), ``history`` (the trajectory and block statistics so far)
and ``meta`` (JSON: the user's config and the sweep's shape). Saves are synchronous, and
orbax writes each step to a temporary directory it renames when complete, so an
interrupted save never leaves a half-written checkpoint. orbax is imported only here.
"""
from __future__ import annotations

import json
import math
import os
from typing import Any

import numpy as np


def plain(value):
    """JSON-safe Python values from NumPy/JAX values (lists for arrays, None for non-finite floats)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return plain(np.asarray(value).tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def manager(directory: str):
    import orbax.checkpoint as ocp
    options = ocp.CheckpointManagerOptions(max_to_keep=2, enable_async_checkpointing=False, create=True)
    return ocp.CheckpointManager(os.path.abspath(directory), options=options,
                                 item_names=("state", "history", "meta"))


def clear(mngr):
    for step in list(mngr.all_steps()):
        mngr.delete(step)


def save(mngr, blocks_done: int, state, first, records, stats, meta: dict):
    import orbax.checkpoint as ocp
    history = {"first": first, "records": records, "stats": stats}
    meta = dict(meta, blocks_done=int(blocks_done))
    mngr.save(int(blocks_done), args=ocp.args.Composite(state=ocp.args.StandardSave(state),
                                                        history=ocp.args.StandardSave(history),
                                                        meta=ocp.args.JsonSave(meta)), force=True)
    mngr.wait_until_finished()


def restore_meta(mngr, step: int) -> dict:
    import orbax.checkpoint as ocp
    return mngr.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore())).meta


def restore_arrays(mngr, step: int, state_template, history_template):
    """The saved state and history, restored into the structures of the templates (abstract arrays)."""
    import orbax.checkpoint as ocp
    out = mngr.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(state_template),
                                                     history=ocp.args.StandardRestore(history_template)))
    return out.state, out.history


def differing_keys(saved: Any, current: Any, prefix: str = "") -> list:
    """Dotted keys whose values differ between two JSON-like dicts (missing keys included)."""
    if isinstance(saved, dict) and isinstance(current, dict):
        out = []
        for k in sorted(set(saved) | set(current)):
            out += differing_keys(saved.get(k, "<missing>"), current.get(k, "<missing>"), f"{prefix}{k}.")
        return out
    return [] if json.dumps(saved, sort_keys=True) == json.dumps(current, sort_keys=True) else [prefix.rstrip(".")]


def check_same(saved_meta: dict, meta: dict, directory: str):
    """Raises ``ValueError`` naming the keys in which a checkpoint's description differs from this run's."""
    saved = {k: saved_meta.get(k) for k in ("config", "sweep")}
    diff = differing_keys(saved, plain(meta))
    if diff:
        raise ValueError(f"cannot resume from {directory}: its checkpoint was made with a different configuration "
                         f"(differing: {', '.join(diff)})")
