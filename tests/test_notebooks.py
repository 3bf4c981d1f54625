"""The tutorial notebooks in ``notebooks/``: jupytext percent-format ``.py`` sources paired with ``.ipynb``.

* every pair is in sync and its generated cells are current (``python notebooks/sync.py --check``:
  jupytext's ``compare_notebooks`` of each ``.ipynb`` against its ``.py``);
* the ``.ipynb`` are committed without outputs, open with the "Open in Colab" badge of their own
  address, and start with the one install cell of :mod:`minimax.notebook`;
* that install cell, run with ``google.colab`` loaded and a stand-in for pip, installs minimax
  with ``--no-deps`` and its other dependencies with jax held where it is, falls back to the Git
  repository, and installs everything when jax is missing;
* a cell added to a ``.py`` gets a new id and every other cell keeps its own;
* each notebook executes top to bottom at QUICK size (``MINIMAX_QUICK=1``) in a fresh Jupyter
  kernel running this interpreter, and shows its figures inline.

The kernel is a ``python3`` kernelspec written to a temporary ``JUPYTER_PATH`` entry that runs
``sys.executable -m ipykernel_launcher``: it needs only ``ipykernel`` installed (the ``test``
extra), no ``ipykernel install --user``, and it cannot pick up another Python from a
kernelspec installed elsewhere on the machine.
"""
from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

from conftest import params_marked_slow
from minimax import notebook

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
jupytext = pytest.importorskip("jupytext")
pytest.importorskip("ipykernel")

NOTEBOOK_DIR = pathlib.Path(__file__).resolve().parents[1] / "notebooks"
SOURCES = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.py"))
NOTEBOOKS = [p.with_suffix(".ipynb") for p in SOURCES]
KERNEL_NAME = "python3"
CELL_TIMEOUT_S = 600      # per cell; at QUICK size a whole notebook takes well under a minute
STARTUP_TIMEOUT_S = 120
ids = lambda p: p.stem


def _sync_module():
    spec = importlib.util.spec_from_file_location("notebook_sync", NOTEBOOK_DIR / "sync.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_tutorials_are_there():
    assert [p.stem for p in SOURCES][:6] == ["01_dirac_gan_dynamics", "02_choosing_a_distance",
                                             "03_memorization_mnist32", "04_composing_a_solver",
                                             "05_second_order_and_anchored_rules", "06_baselines_and_evaluation"]


def test_pairs_in_sync():
    result = subprocess.run([sys.executable, str(NOTEBOOK_DIR / "sync.py"), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == KERNEL_NAME
    assert nb.metadata["jupytext"]["formats"] == "ipynb,py:percent"
    stored = [i for i, cell in enumerate(nb.cells)
              if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)]
    assert not stored, f"{path.name}: code cells {stored} hold outputs or execution counts (python notebooks/sync.py)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_colab_badge_and_first_cell(path):
    nb = nbformat.read(path, as_version=4)
    intro = next(cell for cell in nb.cells if cell.cell_type == "markdown")
    first = next(cell for cell in nb.cells if cell.cell_type == "code")
    assert notebook.colab_badge(path.stem) in intro.source
    assert notebook.colab_url(path.stem) == (f"https://colab.research.google.com/github/{notebook.REPOSITORY}"
                                             f"/blob/main/notebooks/{path.name}")
    call = re.search(r"notebook_setup\((.*)\)$", first.source)
    assert call and first.source == notebook.first_cell(call.group(1))


@pytest.mark.parametrize("path", SOURCES, ids=ids)
def test_states_its_runtime(path):
    intro = jupytext.read(path).cells[0].source
    assert "**Runtime.**" in intro and "__RUNTIME__" not in intro
    assert "QUICK" in intro and "full size" in intro.lower()


def test_adding_a_cell_keeps_the_other_ids(tmp_path):
    sync = _sync_module()
    source, ipynb = SOURCES[0], NOTEBOOKS[0]
    before = [cell.id for cell in nbformat.read(ipynb, as_version=4).cells]
    text = source.read_text(encoding="utf-8")
    cut = text.index("# %% [markdown]\n# ## 1.")
    edited = tmp_path / source.name
    edited.write_text(text[:cut] + "# %%\nprint('a new cell')\n\n" + text[cut:], encoding="utf-8")
    after = [cell.id for cell in sync.paired(jupytext.read(edited), ipynb).cells]
    position = 2  # after the title and the install cell
    assert after[:position] + after[position + 1:] == before
    assert after[position] not in before


# ----------------------------------------------------------------------------- the Colab install cell

FAKE_PIP = """#!/bin/sh
echo "$@" >> "{log}"
case "$*" in *"--no-deps {dist}"*) exit {pypi_rc};; esac
exit 0
"""


def _run_install_cell(tmp_path, *, pypi_rc=0, site=True):
    """Runs the install cell as on Colab, with a stand-in for ``python -m pip``; returns its pip calls."""
    log, fake = tmp_path / "pip.log", tmp_path / "python"
    fake.write_text(FAKE_PIP.format(log=log, dist=notebook.DISTRIBUTION, pypi_rc=pypi_rc))
    fake.chmod(0o755)
    script = (f"import sys, types\nsys.modules['google.colab'] = types.ModuleType('google.colab')\n"
              f"sys.executable = {str(fake)!r}\n" + notebook.COLAB_INSTALL)
    result = subprocess.run([sys.executable, *([] if site else ["-S"]), "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return [line.split() for line in log.read_text().splitlines()]


def test_install_cell_keeps_colabs_jax(tmp_path):
    calls = _run_install_cell(tmp_path)
    assert calls[0] == ["-m", "pip", "install", "-q", "--no-deps", notebook.DISTRIBUTION]
    deps = calls[1][4:]
    names = [re.match(r"[\w.-]+", d)[0] for d in deps]
    assert {f"{name}=={importlib.metadata.version(name)}" for name in ("jax", "jaxlib")} <= set(deps)
    assert "optax" in names and "ott-jax" in names and "pytest" not in names  # runtime dependencies only
    assert len(calls) == 2 and names.count("jax") == 1


def test_install_cell_falls_back_to_github(tmp_path):
    calls = _run_install_cell(tmp_path, pypi_rc=1)
    assert calls[1] == ["-m", "pip", "install", "-q", "--no-deps",
                        f"git+https://github.com/{notebook.REPOSITORY}.git"]
    assert len(calls) == 3


def test_install_cell_without_jax_installs_everything(tmp_path):
    assert _run_install_cell(tmp_path, site=False) == [["-m", "pip", "install", "-q", notebook.DISTRIBUTION]]


# ----------------------------------------------------------------------------- execution

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


@pytest.fixture
def kernel_env(kernel_path, monkeypatch):
    """The kernel's environment: QUICK sizes, this interpreter, and pyplot's inline backend (CI sets Agg)."""
    monkeypatch.setenv("MINIMAX_QUICK", "1")
    monkeypatch.setenv("JUPYTER_PATH", os.pathsep.join(filter(None, [kernel_path, os.environ.get("JUPYTER_PATH")])))
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # quiets the kernel debugger's startup warning
    monkeypatch.delenv("MPLBACKEND", raising=False)


def _execute(nb, directory):
    client = nbclient.NotebookClient(nb, kernel_name=KERNEL_NAME, timeout=CELL_TIMEOUT_S,
                                     startup_timeout=STARTUP_TIMEOUT_S,
                                     resources={"metadata": {"path": str(directory)}})
    client.execute()  # raises CellExecutionError, naming the cell, on the first error
    return nb


def _outputs(cell, kind):
    return [out for out in cell.outputs if kind in out.get("data", {})]


def _shows_a_figure(cell) -> bool:
    """Cells that end with ``plt.show()`` or with a ``plots.*(...)`` call (whose Figure is displayed)."""
    last = ast.parse(cell.source).body[-1]
    call = last.value if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call) else None
    name = call and isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name)
    return bool(name) and (call.func.value.id == "plots" or (call.func.value.id, call.func.attr) == ("plt", "show"))


# The four heaviest notebooks (40 s to 2 min each at QUICK size on the 2-core CPU, compilation-bound) run only
# with --runslow, to keep CI under its time budget; their library calls are tested in test_fdivergences,
# test_mnist32, test_w2, test_compare, test_spectra and test_rules_*, and their .py/.ipynb pairing above in
# every run. Notebooks 01 and 04 execute in CI.
SLOW_NOTEBOOKS = {"02_choosing_a_distance", "03_memorization_mnist32", "05_second_order_and_anchored_rules",
                  "06_baselines_and_evaluation"}
NOTEBOOK_PARAMS = params_marked_slow(NOTEBOOKS, [p.stem for p in NOTEBOOKS], SLOW_NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOK_PARAMS)
def test_notebook_executes(path, kernel_env, tmp_path):
    nb = _execute(nbformat.read(path, as_version=4), tmp_path)
    errors = [(i, out.get("ename"), out.get("evalue")) for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
              for out in cell.outputs if out.output_type == "error"]
    assert not errors, f"{path.name}: errors in cells {errors}"
    first = next(cell for cell in nb.cells if cell.cell_type == "code")
    printed = "".join(out.get("text", "") for out in first.outputs if out.output_type == "stream")
    assert "devices:" in printed and "QUICK = True" in printed, printed
    figures = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and _shows_a_figure(cell)]
    blank = [i for i in figures if not _outputs(nb.cells[i], "image/png")]
    assert figures and not blank, f"{path.name}: cells {blank} should show a figure inline"


def test_inline_plotting_after_a_minimax_figure(kernel_env, tmp_path):
    cells = ["import minimax\nQUICK = minimax.notebook_setup()",
             "import matplotlib\nimport numpy as np\nfrom minimax import plots\nbackend = matplotlib.get_backend()\n"
             "plots.seed_bands(np.arange(3), {'a': np.ones((2, 3))}, ylabel='y')",
             "import matplotlib.pyplot as plt\nplt.plot([0, 1])\nplt.show()\n"
             "print('backend', matplotlib.get_backend(), 'unchanged:', matplotlib.get_backend() == backend)"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells],
                                  metadata={"kernelspec": {"name": KERNEL_NAME, "display_name": "Python 3"}})
    nb = _execute(nb, tmp_path)
    assert _outputs(nb.cells[1], "image/png"), "a minimax Figure ending a cell is shown inline"
    assert _outputs(nb.cells[2], "image/png"), "pyplot still plots inline after a minimax figure"
    printed = "".join(out.get("text", "") for out in nb.cells[2].outputs if out.output_type == "stream")
    assert "inline" in printed and "unchanged: True" in printed, printed
