"""Sphinx configuration of the minimax documentation (see README.md in this folder for the why and the how).

    sphinx-build -W --keep-going -b html docs docs/_build/html
"""
import pathlib
import re
import shutil

import minimax

project = "minimax"
author = "the minimax authors"
release = version = minimax.__version__

extensions = [
    "sphinx.ext.autodoc",   # the API reference, from the docstrings
    "sphinx.ext.napoleon",  # Google-style Args:/Returns:/Examples: sections
    "myst_nb",              # Markdown pages (MyST) and the tutorial notebooks, not executed
]
exclude_patterns = ["_build", "README.md", ".ipynb_checkpoints"]

# The docstrings are Google style.
napoleon_google_docstring = True
napoleon_numpy_docstring = False
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"show-inheritance": True}

# Markdown: $…$ / $$…$$ math in the notebooks; the notebooks are rendered as committed (no outputs).
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
nb_execution_mode = "off"

# The tutorials live in notebooks/ (their one copy in the repository) and Sphinx reads only this
# folder: each build copies the notebooks and their README into docs/tutorials/ (ignored by git).
HERE = pathlib.Path(__file__).resolve().parent
shutil.rmtree(HERE / "tutorials", ignore_errors=True)
(HERE / "tutorials").mkdir()
for source in sorted((HERE.parent / "notebooks").glob("*")):
    if source.suffix in (".ipynb", ".md"):
        shutil.copy2(source, HERE / "tutorials")

html_theme = "furo"
html_title = f"minimax {release}"


def plain_math(app, what, name, obj, options, lines):
    """The docstrings write math in plain unicode, which reStructuredText would misread: |x| (an
    absolute value or a norm) as a substitution reference, and ``name``s (a literal running into
    a word) as an unclosed literal. Escapes both, outside inline literals, and nothing else."""
    for i, line in enumerate(lines):
        parts = re.split(r"(``[^`\s][^`]*``)", line)  # odd entries: the inline literals
        lines[i] = "".join(part if k % 2 else part.replace("|", r"\|") for k, part in enumerate(parts))
        lines[i] = re.sub(r"(``[^`\s][^`]*``)(?=\w)", r"\1\\ ", lines[i])


def setup(app):
    app.connect("autodoc-process-docstring", plain_math)
