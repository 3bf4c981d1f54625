"""Documentation that must stay true: the docstrings' ``Examples:`` run as doctests, every library module has
an API page, and the distance table of ``docs/distances.md`` lists the registry."""
from __future__ import annotations

import doctest
import importlib
import pathlib
import pkgutil
import re

import pytest

import minimax
from minimax.losses import DISTANCES

#: Modules whose docstrings carry examples (at least: the main entry points).
MODULES = ["minimax.train.run", "minimax.train.sweep", "minimax.games.gan", "minimax.losses.distances",
           "minimax.losses.sample_distances", "minimax.ot", "minimax.metrics", "minimax.notebook", "minimax.plots",
           "minimax.updates.extragradient"]
#: Entry points that must show an example.
ENTRY_POINTS = ["minimax.train.run.run", "minimax.train.sweep.sweep", "minimax.games.gan.gan_game",
                "minimax.losses.distances.from_critic_loss", "minimax.losses.sample_distances.mmd2",
                "minimax.ot.assignment", "minimax.metrics.memorization", "minimax.metrics.mode_coverage",
                "minimax.notebook.notebook_setup", "minimax.updates.extragradient.extragradient"]


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name):
    module = importlib.import_module(name)  # the module itself (minimax.train.run is also a function's name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed (output above)"


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_entry_point_has_an_example(name):
    module, attribute = name.rsplit(".", 1)
    doc = getattr(importlib.import_module(module), attribute).__doc__
    assert "Examples:" in doc and ">>> " in doc


def test_the_distance_table_lists_the_registry():
    text = (pathlib.Path(__file__).resolve().parents[1] / "docs" / "distances.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `(\w+)` \|", text, re.M))
    assert rows | set(re.findall(r"`(fgan_\w+)`", text)) == set(DISTANCES)


#: Modules that are not library API, and where they are documented instead.
NOT_API = {
    "minimax.cli": "the `minimax` command (README, Experiments)",
    "minimax.timing": "benchmark timing helpers",
    "minimax.baselines.common": "helpers the baselines share",
    "minimax.data.make_subset": "the script that wrote the shipped MNIST subset (README, Data)",
    "minimax.features.train": "the script that trained the shipped classifier (README)",
}


def test_every_library_module_has_an_api_page():
    """Each module of the package has an ``automodule`` in docs/, except the CLI experiments (README) and NOT_API."""
    docs = pathlib.Path(__file__).resolve().parents[1] / "docs"
    documented = {m for f in docs.rglob("*.md") for m in re.findall(r"automodule:: (\S+)", f.read_text(encoding="utf-8"))}
    modules = {m.name for m in pkgutil.walk_packages(minimax.__path__, "minimax.")}
    library = {m for m in modules if not m.startswith("minimax.experiments")} - set(NOT_API)
    assert not library - documented, f"modules without an API page in docs/api: {sorted(library - documented)}"
    assert not set(NOT_API) - modules, f"NOT_API lists modules that no longer exist: {sorted(set(NOT_API) - modules)}"
