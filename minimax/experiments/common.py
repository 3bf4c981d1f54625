"""Command-line conventions shared by the experiments: argument checks, sweeps with checkpoints and progress.

* Usage errors are :class:`UsageError`: the CLI prints one line and exits with status 2.
* :func:`add_run_arguments` gives every experiment ``--out``, ``--checkpoint-every K``
  (blocks; 0 turns checkpoints off) and ``--resume``.
* :func:`run_sweep` runs one :func:`minimax.train.sweep` of an experiment with its
  checkpoint directory ``OUT/checkpoints/<experiment>/<name>``, a progress bar (tqdm on
  stderr: step, runs diverged so far, rate) and the CLI's stop flag (Ctrl-C stops at the
  next block boundary).
"""
from __future__ import annotations

import math
import os
import tempfile
import threading
from functools import partial
from typing import Iterable, Mapping, Optional

import jax
import optax

from minimax import train

#: ``--optimizer`` choices of the GAN experiments: name -> (learning rate -> transformation).
OPTIMIZERS = {"sgd": optax.sgd, "adam": partial(optax.adam, b1=0.5)}

#: Arguments that say how to run, not what to compute (left out of a checkpoint's config).
RUN_ARGUMENTS = ("out", "checkpoint_every", "resume", "command", "processes")

#: Set by the CLI's SIGINT handler; sweeps stop at the next block boundary when it is set.
STOP = threading.Event()


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


def require_writable(directory: str):
    """Creates ``directory`` if needed and checks that a file can be written in it (before any compute)."""
    try:
        os.makedirs(directory, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".minimax-write-test-"):
            pass
    except OSError as err:
        raise UsageError(f"--out {directory!r} is not a writable directory ({err.strerror or err})") from None


def add_run_arguments(parser, *, checkpoint_every: int = 10):
    parser.add_argument("--out", default="./minimax-results", help="output directory, default ./minimax-results")
    parser.add_argument("--processes", type=int, default=1,
                        help="run as N local JAX processes (CPU, gloo collectives) splitting the runs; process 0 "
                             "writes the results (checkpoints are off with N > 1); default 1")
    parser.add_argument("--checkpoint-every", type=int, default=checkpoint_every,
                        help=f"save a checkpoint every K record blocks in OUT/checkpoints (0: never), "
                             f"default {checkpoint_every}")
    parser.add_argument("--resume", action="store_true",
                        help="continue from the checkpoints in OUT (same arguments), skipping finished parts")


def add_records_argument(parser, default: int):
    parser.add_argument("--records", type=int, default=default,
                        help=f"about how many record blocks (metrics, and the stiffness re-estimate of the adaptive "
                             f"step, at each block's start); the block length is the largest divisor of --steps "
                             f"up to steps/records; default {default}")


def block_length(steps: int, records: int) -> int:
    """``record_every`` for about ``records`` blocks: gcd(steps, max(1, steps // records)), a divisor of ``steps``
    giving at least ``records`` blocks (every step when steps < records)."""
    return math.gcd(steps, max(1, steps // records))


def validate_run_arguments(args):
    require_positive_ints(args, "checkpoint_every", minimum=0)
    require_positive_ints(args, "processes")
    require_writable(args.out)


def config_of(args) -> dict:
    """The arguments that define what an experiment computes (a checkpoint's config)."""
    return {k: v for k, v in sorted(vars(args).items()) if k not in RUN_ARGUMENTS and not callable(v)}


class Progress:
    """A tqdm bar on stderr, ``progress(step, steps, diverged)`` as :func:`minimax.train.sweep` calls it."""

    def __init__(self, label: str):
        self.label, self.bar = label, None

    def __call__(self, step, steps, diverged):
        if jax.process_index() != 0:
            return
        if self.bar is None:
            try:
                from tqdm import tqdm
            except ImportError:  # a --no-deps install (e.g. on an offline accelerator machine): no bar
                self.bar = False
                return
            self.bar = tqdm(total=steps, desc=self.label, unit="step", mininterval=1.0, leave=False, dynamic_ncols=True)
        if self.bar is False:
            return
        self.bar.update(step - self.bar.n)
        self.bar.set_postfix(diverged=diverged, refresh=False)

    def close(self):
        if self.bar:
            self.bar.close()


def run_sweep(args, experiment: str, name: str, game, rule, hparams, keys, **kwargs):
    """:func:`minimax.train.sweep` with the experiment's checkpoints, progress bar and stop flag."""
    checkpoint = None
    if args.checkpoint_every and jax.process_count() == 1:
        checkpoint = train.Checkpointing(os.path.join(args.out, "checkpoints", experiment, name),
                                         every=args.checkpoint_every, resume=args.resume, overwrite=not args.resume,
                                         config=config_of(args))
    progress = Progress(f"{experiment} {name}")
    try:
        return train.sweep(game, rule, hparams, keys, checkpoint=checkpoint, progress=progress, stop=STOP.is_set,
                           **kwargs)
    except ValueError as err:
        if checkpoint is not None and str(err).startswith("cannot resume"):
            raise UsageError(str(err)) from None
        raise
    finally:
        progress.close()
