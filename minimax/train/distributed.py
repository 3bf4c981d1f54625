"""Several JAX processes (``jax.distributed``): one sweep, its runs split across every process's devices.

A sweep (:func:`minimax.train.sweep`) lays its runs out on ``jax.devices()``, which after
``jax.distributed.initialize`` lists the devices of *all* processes: each process computes the
runs on its own devices, the results are gathered to every process between blocks
(``multihost_utils.process_allgather``), and only process 0 writes files
(:func:`is_main_process`).

The ``minimax`` command starts the processes itself with ``--processes N`` (N local CPU
processes talking through gloo collectives, for testing) via :func:`launch`; each child
process reads its place from the environment (:func:`initialize_from_env`):

* ``MINIMAX_COORDINATOR`` (host:port of process 0), ``MINIMAX_NUM_PROCESSES``,
  ``MINIMAX_PROCESS_ID``: set these yourself to run one ``minimax`` process per host of a
  multi-host GPU/TPU cluster (the same command on every host);
* ``MINIMAX_DISTRIBUTED=auto``: ``jax.distributed.initialize()`` with no arguments, which
  detects the cluster (Cloud TPU pods, SLURM, Open MPI).
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from typing import Sequence

ENV = ("MINIMAX_COORDINATOR", "MINIMAX_NUM_PROCESSES", "MINIMAX_PROCESS_ID")


def initialize_from_env() -> bool:
    """Joins the process group described by the environment (see the module doc); False when there is none."""
    import jax
    if os.environ.get("MINIMAX_DISTRIBUTED") == "auto":
        jax.distributed.initialize()
        return True
    if not in_group():
        return False
    if os.environ.get("JAX_PLATFORMS") == "cpu":  # CPU processes talk through gloo collectives
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator_address=os.environ["MINIMAX_COORDINATOR"],
                               num_processes=int(os.environ["MINIMAX_NUM_PROCESSES"]),
                               process_id=int(os.environ["MINIMAX_PROCESS_ID"]))
    return True


def in_group() -> bool:
    """True in a process started by :func:`launch` or told its place by the environment."""
    return os.environ.get("MINIMAX_DISTRIBUTED") == "auto" or all(k in os.environ for k in ENV)


def is_main_process() -> bool:
    """True in a single process, and in process 0 of several: the one that writes results and prints."""
    import jax
    return jax.process_index() == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def launch(argv: Sequence[str], processes: int) -> int:
    """Runs ``python -m minimax.cli *argv`` as ``processes`` local CPU processes of one group.

    Ctrl-C is forwarded to every process (each stops at its next block boundary). Returns the
    first non-zero exit status, else 0.
    """
    port = _free_port()
    env = dict(os.environ, MINIMAX_COORDINATOR=f"localhost:{port}", MINIMAX_NUM_PROCESSES=str(processes),
               JAX_PLATFORMS="cpu")
    children = [subprocess.Popen([sys.executable, "-m", "minimax.cli", *argv],
                                 env=dict(env, MINIMAX_PROCESS_ID=str(i))) for i in range(processes)]
    previous = signal.signal(signal.SIGINT, lambda *_: [c.send_signal(signal.SIGINT) for c in children])
    try:
        codes = [c.wait() for c in children]
    finally:
        signal.signal(signal.SIGINT, previous)
    return next((c for c in codes if c), 0)
