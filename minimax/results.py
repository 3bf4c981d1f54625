"""Writing experiment results: JSON (with config and library versions), CSV, console tables."""
from __future__ import annotations

import contextlib
import csv
import json
import os
import platform
import tempfile
from importlib import metadata
from typing import Iterable, Optional, Sequence



def versions() -> dict:
    """Versions of Python, the platform, JAX's backend and the libraries minimax builds on."""
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for dist in ("jax-minimax", "jax", "jaxlib", "optax", "chex", "flax", "ott-jax", "orbax-checkpoint", "numpy"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    try:
        import jax
        out["backend"] = jax.default_backend()
        out["devices"] = [str(d) for d in jax.devices()]
    except Exception as err:  # a broken accelerator plugin must not lose the results
        out["backend"] = f"unavailable: {err}"
    return out


from minimax.checkpoint import plain as _plain  # JSON-safe values; non-finite floats become None


def write_results(out_dir: str, name: str, config: dict, rows: Sequence[dict], summary: Optional[dict] = None) -> dict:
    """Writes ``out_dir/name.json`` ({"config", "versions", "rows"} and the ``summary`` keys at
    top level) and ``out_dir/name.csv`` (the rows).

    Returns the paths written, by extension. With several processes only process 0 writes.
    """
    json_path, csv_path = os.path.join(out_dir, f"{name}.json"), os.path.join(out_dir, f"{name}.csv")
    if not _main_process():
        return {"json": json_path, "csv": csv_path}
    os.makedirs(out_dir, exist_ok=True)
    rows = [_plain(r) for r in rows]
    with atomic_open(json_path) as f:
        json.dump({**_plain(summary or {}), "config": _plain(config), "versions": versions(), "rows": rows}, f, indent=2)
    columns = list(dict.fromkeys(k for r in rows for k in r))
    with atomic_open(csv_path, newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: json.dumps(v) if isinstance(v, (list, dict)) else v for k, v in r.items()})
    return {"json": json_path, "csv": csv_path}


def _main_process() -> bool:
    import jax
    return jax.process_index() == 0


@contextlib.contextmanager
def atomic_open(path: str, mode: str = "w", **kwargs):
    """Writes ``path`` through a temporary file in the same directory, renamed into place when the
    block completes: a crash never leaves a half-written file (``os.replace`` is atomic)."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def format_table(rows: Iterable[dict], columns: Sequence[str]) -> str:
    """A fixed-width text table of ``columns`` (floats with 4 significant digits)."""
    def cell(v):
        if isinstance(v, float):
            return f"{v:.4g}"
        if isinstance(v, (list, tuple)):
            return ",".join(map(str, v)) or "-"
        return "-" if v is None else str(v)
    body = [[cell(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(b[i]) for b in body]) for i, c in enumerate(columns)]
    line = lambda cells: "  ".join(s.rjust(w) for s, w in zip(cells, widths))
    return "\n".join([line(columns), line(["-" * w for w in widths])] + [line(b) for b in body])
