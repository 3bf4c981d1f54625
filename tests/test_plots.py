"""minimax.plots: figures built outside pyplot, written only when given a path, the backend left alone."""
from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure

from minimax import plots
from minimax.games import dirac_gan

STEPS = np.arange(0, 50, 10)
CURVES = {"a": np.ones((3, len(STEPS))), "b": np.linspace(1, 2, 3)[:, None] * np.ones(len(STEPS))}
POINTS = np.random.default_rng(0).normal(size=(40, 2))
IMAGES = np.random.default_rng(1).uniform(size=(10, 28 * 28))

FIGURES = {
    "image_mosaic": lambda **kw: plots.image_mosaic([("digits", IMAGES), ("again", IMAGES[:3])], cols=5, **kw),
    "seed_bands": lambda **kw: plots.seed_bands(STEPS, CURVES, ylabel="y", log=True, title="t", **kw),
    "seed_band_panels": lambda **kw: plots.seed_band_panels(STEPS, {"p": CURVES, "q": {"a": CURVES["a"]}},
                                                            ylabel="y", panels_per_row=1, **kw),
    "scatter_panels": lambda **kw: plots.scatter_panels([("x", POINTS)], markers=POINTS[:4], background=POINTS, **kw),
}


@pytest.fixture
def pyplot_untouched():
    """Asserts that the test leaves pyplot's figures and the matplotlib backend as they were."""
    backend, figures = matplotlib.get_backend(), plt.get_fignums()
    yield
    assert matplotlib.get_backend() == backend
    assert plt.get_fignums() == figures


@pytest.mark.parametrize("name", FIGURES)
def test_returns_a_figure_and_writes_nothing_without_a_path(name, tmp_path, monkeypatch, pyplot_untouched):
    monkeypatch.chdir(tmp_path)
    fig = FIGURES[name]()
    assert isinstance(fig, Figure) and fig.axes
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", FIGURES)
def test_writes_a_png_at_the_path(name, tmp_path, pyplot_untouched):
    path = tmp_path / f"{name}.png"
    fig = FIGURES[name](path=str(path))
    assert isinstance(fig, Figure)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # written atomically: no temporary left


@pytest.mark.parametrize("distance, shaded", [("wasserstein", True), ("zero_infinity", False)])
def test_flow_shades_outside_the_constraint_set(distance, shaded, pyplot_untouched):
    fig, ax = plots.subplots()
    game = dirac_gan(distance)
    plots.flow(ax, game.field_fn(), projection=game.projection)
    assert ax.get_xlim() == (-2.0, 2.0) and ax.patches  # the streamlines' arrows
    assert any(isinstance(c, ContourSet) for c in ax.collections) == shaded  # |w| > 1 for Wasserstein


def test_mosaic_tiles_images():
    grid = plots.mosaic(np.ones((3, 4)), (2, 2), cols=2)
    assert grid.shape == (2 * 3 + 1, 2 * 3 + 1)
    assert grid.sum() == 3 * 4
