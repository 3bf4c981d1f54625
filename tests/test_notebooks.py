"""The tutorial notebooks in ``notebooks/``.

* they are committed without outputs, and equal to what ``notebooks/build.py`` writes;
* each one executes top to bottom, at QUICK size (``MINIMAX_QUICK=1``), in a fresh Jupyter
  kernel running this interpreter; any error in any cell fails the test.

The kernel is a ``python3`` kernelspec written to a temporary ``JUPYTER_PATH`` entry that runs
``sys.executable -m ipykernel_launcher``: it needs only ``ipykernel`` installed (the ``test``
extra), no ``ipykernel install --user``, and it cannot pick up another Python from a
kernelspec installed elsewhere on the machine.
"""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK_DIR = pathlib.Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = ["01_dirac_gan_dynamics.ipynb", "02_choosing_a_distance.ipynb", "03_memorization_mnist32.ipynb",
            "04_composing_a_solver.ipynb"]
KERNEL_NAME = "python3"
CELL_TIMEOUT_S = 600      # per cell; at QUICK size a whole notebook takes well under a minute
STARTUP_TIMEOUT_S = 120


def test_all_notebooks_present():
    assert [p.name for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == KERNEL_NAME
    stored = [i for i, cell in enumerate(nb.cells)
              if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)]
    assert not stored, f"{path.name}: code cells {stored} hold outputs or execution counts (rebuild with notebooks/build.py)"


def test_notebooks_match_build_script():
    result = subprocess.run([sys.executable, str(NOTEBOOK_DIR / "build.py"), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def kernel_path(tmp_path_factory) -> str:
    """A JUPYTER_PATH directory holding a ``python3`` kernelspec for the current interpreter."""
    root = tmp_path_factory.mktemp("jupyter")
    spec_dir = root / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (minimax tests)", "language": "python"}
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return str(root)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path, kernel_path, tmp_path, monkeypatch):
    monkeypatch.setenv("MINIMAX_QUICK", "1")
    monkeypatch.setenv("JUPYTER_PATH", os.pathsep.join(filter(None, [kernel_path, os.environ.get("JUPYTER_PATH")])))
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # quiets the kernel debugger's startup warning
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name=KERNEL_NAME, timeout=CELL_TIMEOUT_S,
                                     startup_timeout=STARTUP_TIMEOUT_S,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, naming the cell, on the first error
    errors = [(i, out.get("ename"), out.get("evalue")) for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
              for out in cell.outputs if out.output_type == "error"]
    assert not errors, f"{path.name}: errors in cells {errors}"
    first = next(cell for cell in nb.cells if cell.cell_type == "code")
    printed = "".join(out.get("text", "") for out in first.outputs if out.output_type == "stream")
    assert "devices:" in printed and "QUICK = True" in printed, printed
