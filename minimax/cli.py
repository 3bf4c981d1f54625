"""The ``minimax`` console script.

``minimax`` alone runs the default experiment (``minimax dirac`` with its defaults).
Each subcommand lives in ``minimax/experiments/<name>.py`` with ``add_arguments(parser)``
and ``main(args) -> int``; register it in :data:`COMMANDS`.
"""
from __future__ import annotations

import argparse
import importlib
import os
import shlex
import signal
import sys
import tempfile
import traceback

from minimax.experiments.common import STOP, UsageError

#: subcommand -> (module, one-line help)
COMMANDS = {
    "dirac": ("minimax.experiments.dirac", "Dirac GAN: distances x update rules x tau, many seeds (default)"),
    "bench": ("minimax.experiments.bench", "throughput of vmapped MNIST-32 EG training vs a loop vs PyTorch eager"),
    "mixture": ("minimax.experiments.mixture", "mode collapse on 2-D Gaussian mixtures: distance x update rule x tau"),
    "mnist32": ("minimax.experiments.mnist32", "memorization of 32 MNIST digits: distance x update rule x tau"),
    "report": ("minimax.experiments.report", "one Markdown page from the JSON/PNG results of a directory"),
    "w2": ("minimax.experiments.w2", "W2 regression (exact / Sinkhorn coupling) on 32 MNIST digits"),
    "compare": ("minimax.experiments.compare", "GAN vs W2 regression vs VAE, flow, score and flow matching, many seeds"),
    "implicit-bias": ("minimax.experiments.implicit_bias", "zero-infinity last-layer GAN from A = 0: EG finds the min-norm XΦ⁺"),
}
DEFAULT_COMMAND = "dirac"


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not the usage block
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="minimax", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        importlib.import_module(module).add_arguments(p)
    return parser


def _on_sigint(signum, frame):
    if STOP.is_set():  # a second Ctrl-C: stop now
        raise KeyboardInterrupt
    STOP.set()
    print("\nminimax: stopping at the end of this block (Ctrl-C again to stop now)", file=sys.stderr)


def _log_error(args) -> str:
    """Writes the current exception's traceback to a log file and returns its path."""
    directory = getattr(args, "out", None)
    if not (directory and os.path.isdir(directory) and os.access(directory, os.W_OK)):
        directory = tempfile.gettempdir()
    path = os.path.join(directory, "minimax-error.log")
    with open(path, "w") as f:
        f.write(f"minimax {' '.join(map(shlex.quote, sys.argv[1:]))}\n\n")
        traceback.print_exc(file=f)
    return path


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = [DEFAULT_COMMAND] + argv
    parser = build_parser()
    args = parser.parse_args(argv)
    from minimax import train
    from minimax.train import distributed

    processes = getattr(args, "processes", 1)
    if processes > 1 and not distributed.in_group():
        if processes > 64:
            print(f"minimax {args.command}: error: --processes must be <= 64, got {processes}", file=sys.stderr)
            return 2
        return distributed.launch(argv, processes)
    if distributed.initialize_from_env():
        if not distributed.is_main_process():
            _quiet_worker(args)
    elif args.command != "bench":  # bench times a loop of runs against the whole host
        try:
            split_host_into_devices()
        except UsageError as err:
            print(f"minimax {args.command}: error: {err}", file=sys.stderr)
            return 2

    STOP.clear()
    previous = signal.signal(signal.SIGINT, _on_sigint) if _main_thread() else None
    try:
        return importlib.import_module(COMMANDS[args.command][0]).main(args) or 0
    except UsageError as err:
        print(f"minimax {args.command}: error: {err}", file=sys.stderr)
        return 2
    except train.Interrupted as err:
        again = " ".join(map(shlex.quote, ["minimax"] + argv + ([] if "--resume" in argv else ["--resume"])))
        how = f"; resume with: {again}" if err.directory else " (run with --checkpoint-every K to be able to resume)"
        print(f"minimax {args.command}: {err}{how}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print(f"minimax {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # an internal error: one line here, the traceback in a log
        path = _log_error(args)
        print(f"minimax {args.command}: internal error: {type(err).__name__}: {err} (traceback in {path})",
              file=sys.stderr)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def split_host_into_devices(environ=os.environ) -> int:
    """Give XLA one CPU device per core (``--xla_force_host_platform_device_count``).

    A sweep shards its runs over all devices, and on CPU one device per core beats one device
    with every core: 1.43x (8 seeds) and 1.62x (64 seeds) MNIST-32 EG seed-steps/s on the 2-core
    machine (``minimax bench``, README), the Dirac GAN unchanged. ``MINIMAX_HOST_DEVICES=N``
    sets the count (1 leaves XLA alone); an ``XLA_FLAGS`` that already sets it wins. Has an effect
    only before JAX starts its CPU backend, which the ``minimax`` command ensures. Returns the count.
    """
    flags = environ.get("XLA_FLAGS", "")
    if "xla_force_host_platform_device_count" in flags:
        return int(flags.split("xla_force_host_platform_device_count=")[1].split()[0])
    wanted = environ.get("MINIMAX_HOST_DEVICES", "")
    if wanted and not (wanted.isdigit() and int(wanted) >= 1):
        raise UsageError(f"MINIMAX_HOST_DEVICES must be a positive integer, got {wanted!r}")
    count = int(wanted) if wanted else len(os.sched_getaffinity(0))
    if count > 1:
        environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={count}".strip()
    return count


def _quiet_worker(args):
    """Processes other than 0 print nothing (process 0 reports); their stderr goes to a log in --out."""
    import jax
    sys.stdout = open(os.devnull, "w")
    directory = getattr(args, "out", None) or tempfile.gettempdir()
    os.makedirs(directory, exist_ok=True)
    sys.stderr = open(os.path.join(directory, f"minimax-process-{jax.process_index()}.log"), "w")


def _main_thread() -> bool:
    import threading
    return threading.current_thread() is threading.main_thread()


if __name__ == "__main__":
    sys.exit(main())
