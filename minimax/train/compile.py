"""Compiled programs keyed by the program itself: a cache that cannot go stale."""
from __future__ import annotations

import collections
import hashlib
from typing import Any, Callable

import jax

_COMPILED: "collections.OrderedDict[str, Any]" = collections.OrderedDict()
_COMPILED_MAX = 32
compile_stats = {"hits": 0, "misses": 0}


def compiled(fn: Callable, *args) -> "CompiledProgram":
    """``jax.jit(fn)`` for arguments shaped like ``args``, compiled once per distinct program.

    ``fn`` is traced on every call (so a changed global it reads is always seen) and the
    executable of the program on the flattened arguments is cached under the SHA-256 of
    its lowered StableHLO text and the arguments' shardings: the key is the program itself,
    so it cannot go stale, and one compilation serves every dataset of a shape (data are
    arguments, not constants) and every rebuilt game with the same computation. Returns a
    :class:`CompiledProgram`, to call with arguments of the same shapes and structure as ``args``.
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
    return CompiledProgram(_COMPILED[key], out_trees[0], key)


class CompiledProgram:
    """A compiled executable called with pytrees: ``program(*args)`` flattens them and unflattens the result.

    ``fingerprint`` is the SHA-256 key of the program (its StableHLO text and input shardings).
    """

    def __init__(self, executable, out_tree, fingerprint: str):
        self.executable, self.out_tree, self.fingerprint = executable, out_tree, fingerprint

    def __call__(self, *args):
        return jax.tree_util.tree_unflatten(self.out_tree, self.executable(*jax.tree_util.tree_leaves(args)))

    def memory_analysis(self):
        """XLA's memory estimate of the executable (argument, output and temporary bytes)."""
        return self.executable.memory_analysis()
