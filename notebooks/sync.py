"""Writes each tutorial's ``.ipynb`` from its jupytext ``.py`` (percent format), the source you edit.

    python notebooks/sync.py            # refresh the generated cells, then write every .ipynb
    python notebooks/sync.py --check    # exit 1 and name the notebooks that a run would change

For every ``notebooks/NN_name.py`` it

* rewrites the two generated pieces from :mod:`minimax.notebook`: the "Open in Colab" badge of
  the first Markdown cell and the install part of the first code cell (so a change of
  ``minimax.notebook.REPOSITORY`` reaches every notebook);
* writes ``NN_name.ipynb`` with the ``.py``'s cells, no outputs, and the cell ids the
  ``.ipynb`` already had (a new cell gets a new id, the others keep theirs).

Jupyter with jupytext installed opens either file of a pair and saves both.
"""
from __future__ import annotations

import argparse
import pathlib
import re
import sys

import jupytext
from jupytext.combine import combine_inputs_with_outputs
from jupytext.compare import compare_notebooks

from minimax import notebook

HERE = pathlib.Path(__file__).resolve().parent
FORMAT = "py:percent"
BADGE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)")
SETUP_CALL = re.compile(r"QUICK = minimax\.notebook_setup\((.*)\)\s*$")


def sources() -> list:
    """The notebooks' ``.py`` files, in order."""
    return sorted(HERE.glob("[0-9][0-9]_*.py"))


def refreshed(path: pathlib.Path):
    """The notebook of ``path`` with its badge and install cell regenerated."""
    nb = jupytext.read(path, fmt=FORMAT)
    intro = next(cell for cell in nb.cells if cell.cell_type == "markdown")
    setup = next(cell for cell in nb.cells if cell.cell_type == "code")
    call = SETUP_CALL.search(setup.source)
    if not BADGE.search(intro.source) or call is None:
        raise SystemExit(f"{path.name}: the first Markdown cell needs a Colab badge and the first code cell "
                         f"must end with `QUICK = minimax.notebook_setup(...)`; start from {sources()[0].name}")
    intro.source = BADGE.sub(lambda _: notebook.colab_badge(path.stem), intro.source)
    setup.source = notebook.first_cell(call.group(1))
    return nb


def paired(nb, ipynb: pathlib.Path):
    """``nb`` as the ``.ipynb`` to write: the ids of the existing ``.ipynb``'s cells, no outputs."""
    if ipynb.exists():
        nb = combine_inputs_with_outputs(nb, jupytext.read(ipynb), fmt=FORMAT)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def stale(path: pathlib.Path) -> list:
    """What a run would change for ``path``: its generated cells, or its ``.ipynb``."""
    nb, ipynb = refreshed(path), path.with_suffix(".ipynb")
    problems = []
    if [cell.source for cell in nb.cells] != [cell.source for cell in jupytext.read(path, fmt=FORMAT).cells]:
        problems.append(f"{path.name}: the Colab badge or the install cell is not what minimax.notebook writes")
    if not ipynb.exists():
        return problems + [f"{ipynb.name} is missing"]
    try:
        compare_notebooks(jupytext.read(ipynb), nb, fmt=FORMAT)
    except Exception as err:  # jupytext raises one of several types, each naming the difference
        problems.append(f"{ipynb.name} differs from {path.name}: {err}")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report what a run would change")
    args = parser.parse_args(argv)
    if args.check:
        problems = [p for path in sources() for p in stale(path)]
        orphans = sorted({p.stem for p in HERE.glob("*.ipynb")} - {p.stem for p in sources()})
        problems += [f"{name}.ipynb has no {name}.py" for name in orphans]
        print("\n".join(problems) or f"{len(sources())} notebooks in sync", file=sys.stderr if problems else sys.stdout)
        if problems:
            print("run `python notebooks/sync.py`", file=sys.stderr)
        return 1 if problems else 0
    for path in sources():
        nb = refreshed(path)
        jupytext.write(nb, path, fmt=FORMAT)
        jupytext.write(paired(nb, path.with_suffix(".ipynb")), path.with_suffix(".ipynb"))
        print("wrote", path.name, "and", path.with_suffix(".ipynb").name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
