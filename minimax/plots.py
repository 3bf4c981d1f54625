"""Figures shared by the experiments and the notebooks: image mosaics, 2-D scatter panels, seed bands, flows.

Every function builds a :class:`matplotlib.figure.Figure` directly, without pyplot: nothing
is registered in pyplot's global state and the matplotlib backend is never changed, so the
functions work the same in a script, under a test and in a notebook, where a returned figure
is displayed inline like any other and pyplot keeps working as before. A figure is written
as a PNG only when a ``path`` is given (:func:`save_figure`).

Examples:
    >>> import numpy as np
    >>> from minimax import plots
    >>> steps = np.arange(0, 101, 10)
    >>> curves = {"EG": np.exp(-0.05 * steps)[None] * np.array([[1.0], [2.0]])}  # (seeds, steps)
    >>> fig = plots.seed_bands(steps, curves, ylabel="‖p − p*‖", log=True)
    >>> type(fig).__name__, len(fig.axes)
    ('Figure', 1)
"""
from __future__ import annotations

import math
from typing import Callable, Dict, Optional, Sequence, Tuple

import numpy as np
from matplotlib.figure import Figure

DPI = 110


def subplots(nrows: int = 1, ncols: int = 1, *, figsize=None, **kwargs) -> Tuple[Figure, object]:
    """``(Figure, axes)`` like ``pyplot.subplots``, with a constrained layout and outside pyplot."""
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.subplots(nrows, ncols, **kwargs)


def save_figure(fig: Figure, path: str, title: str = "") -> Figure:
    """Writes ``fig`` (titled ``title`` when given) as a PNG at ``path``, atomically; returns ``fig``.

    With several processes only process 0 writes.
    """
    from minimax.results import _main_process, atomic_open
    if title:
        fig.suptitle(title, fontsize=10)
    if _main_process():
        with atomic_open(path, "wb") as f:
            fig.savefig(f, dpi=DPI, format="png")
    return fig


def _finish(fig: Figure, title: str, path: Optional[str]) -> Figure:
    if title:
        fig.suptitle(title, fontsize=10)
    return fig if path is None else save_figure(fig, path)


def _grid(n_panels: int, panels_per_row: int, panel_size, **kwargs):
    """A figure of ⌈n/panels_per_row⌉ × min(n, panels_per_row) axes (2-D array), the unused ones hidden."""
    n_rows, n_cols = math.ceil(n_panels / panels_per_row), min(panels_per_row, n_panels)
    fig, axes = subplots(n_rows, n_cols, figsize=(panel_size[0] * n_cols, panel_size[1] * n_rows + 0.4),
                         squeeze=False, **kwargs)
    for ax in axes.ravel()[n_panels:]:
        ax.axis("off")
    return fig, axes


def mosaic(images, image_shape: Tuple[int, int], cols: int) -> np.ndarray:
    """Tiles images (n, H·W) clipped to [0, 1] into one array, ``cols`` per row, 1-pixel white gaps."""
    h, w = image_shape
    images = np.clip(np.asarray(images, np.float32).reshape(-1, h, w), 0.0, 1.0)
    rows = -(-len(images) // cols)
    grid = np.zeros((rows * (h + 1) + 1, cols * (w + 1) + 1))
    for k, im in enumerate(images):
        r, c = divmod(k, cols)
        grid[1 + (h + 1) * r: (h + 1) * (r + 1), 1 + (w + 1) * c: (w + 1) * (c + 1)] = im
    return grid


def image_mosaic(panels: Sequence[Tuple[str, np.ndarray]], *, image_shape=(28, 28), cols: int = 8, title: str = "",
                 panels_per_row: int = 3, path: Optional[str] = None) -> Figure:
    """One subplot per (title, images) panel, each a :func:`mosaic` of its images (dark on white)."""
    image_rows = max(math.ceil(len(images) / cols) for _, images in panels)
    panel_size = (0.36 * cols + 0.4, 0.36 * image_rows + 0.6)  # inches, so digits stay legible
    fig, axes = _grid(len(panels), panels_per_row, panel_size)
    for ax, (label, images) in zip(axes.ravel(), panels):
        ax.imshow(mosaic(images, image_shape, cols), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(label, fontsize=9)
        ax.axis("off")
    return _finish(fig, title, path)


def draw_seed_bands(ax, steps, curves: Dict[str, np.ndarray]):
    """Draws on ``ax`` the median over seeds and the min–max band of each curve (seeds, len(steps))."""
    for label, values in curves.items():
        values = np.asarray(values, np.float64)
        lo, mid, hi = np.nanmin(values, 0), np.nanmedian(values, 0), np.nanmax(values, 0)
        (line,) = ax.plot(steps, mid, label=label, lw=1.4)
        ax.fill_between(steps, lo, hi, color=line.get_color(), alpha=0.2)
    return ax


def seed_bands(steps, curves: Dict[str, np.ndarray], *, ylabel: str, title: str = "", log: bool = False,
               path: Optional[str] = None) -> Figure:
    """One axes with :func:`draw_seed_bands` of ``curves`` (label -> (seeds, len(steps)))."""
    fig, ax = subplots(figsize=(6.4, 4.0))
    draw_seed_bands(ax, steps, curves)
    if log:
        ax.set_yscale("log")
    ax.set(xlabel="step", ylabel=ylabel)
    ax.legend(fontsize=7, ncol=2)
    return _finish(fig, title, path)


def seed_band_panels(steps, panels: Dict[str, Dict[str, np.ndarray]], *, ylabel: str, title: str = "",
                     panels_per_row: int = 4, log: bool = False, path: Optional[str] = None) -> Figure:
    """:func:`seed_bands` as small multiples: one subplot per panel title, each with its own curves, shared axes."""
    fig, axes = _grid(len(panels), panels_per_row, (3.2, 2.6), sharex=True, sharey=True)
    for ax, (panel, curves) in zip(axes.ravel(), panels.items()):
        draw_seed_bands(ax, steps, curves)
        ax.set_title(panel, fontsize=9)
        ax.legend(fontsize=7)
        if log:
            ax.set_yscale("log")
    for ax in axes[-1]:
        ax.set_xlabel("step")
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel)
    return _finish(fig, title, path)


def scatter_panels(panels: Sequence[Tuple[str, np.ndarray]], *, markers=None, background=None, title: str = "",
                   panels_per_row: int = 4, limit=None, path: Optional[str] = None) -> Figure:
    """One 2-D scatter subplot per (title, points (n, 2)) panel.

    ``markers`` (k, 2) are drawn as red crosses on every panel (e.g. mixture centers) and
    ``background`` points (m, 2) in light grey under each panel's points (e.g. data); axes
    ±``limit`` (default: fit the markers).
    """
    fig, axes = _grid(len(panels), panels_per_row, (2.8, 2.8))
    if limit is None and markers is not None:
        limit = 1.25 * float(np.max(np.abs(markers)))
    for ax, (label, points) in zip(axes.ravel(), panels):
        points = np.asarray(points)
        if background is not None:
            ax.scatter(np.asarray(background)[:, 0], np.asarray(background)[:, 1], s=2, c="0.8", lw=0)
        if markers is not None:
            ax.scatter(np.asarray(markers)[:, 0], np.asarray(markers)[:, 1], s=14, c="red", marker="x", lw=0.8)
        ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.5, lw=0)
        if limit is not None:
            ax.set(xlim=(-limit, limit), ylim=(-limit, limit))
        ax.set_aspect("equal")
        ax.set_xticks([]), ax.set_yticks([])
        ax.set_title(label, fontsize=8)
    return _finish(fig, title, path)


def flow(ax, field_fn: Callable, *, projection: Optional[Callable] = None, limit: float = 2.0, points: int = 41,
         **streamplot_kwargs):
    """Streamlines of the flow −F of a game with two scalar players on [−limit, limit]² (θ across, w up).

    ``field_fn(Players(θ, w)) -> Players`` is the descent field, e.g. ``game.field_fn()``; it is
    vmapped over the grid. With the game's ``projection``, the points outside its constraint set
    (those it moves) are shaded. A star marks the origin (the Dirac GAN's and the bilinear
    game's equilibrium). Returns ``ax``.
    """
    import jax
    import jax.numpy as jnp

    from minimax.game import Players

    grid = np.linspace(-limit, limit, points)
    T, W = np.meshgrid(grid, grid)
    p = Players(jnp.asarray(T.ravel(), jnp.float32), jnp.asarray(W.ravel(), jnp.float32))
    F = jax.vmap(field_fn)(p)
    if projection is not None:
        moved = jax.tree_util.tree_map(lambda a, b: np.asarray(a != b), jax.vmap(projection)(p), p)
        outside = (moved.min | moved.max).reshape(T.shape)
        ax.contourf(T, W, outside.astype(float), levels=[0.5, 1.5], colors=["0.92"])
    style = {"color": "0.7", "density": 0.9, "linewidth": 0.7, **streamplot_kwargs}
    ax.streamplot(T, W, -np.asarray(F.min).reshape(T.shape), -np.asarray(F.max).reshape(T.shape), **style)
    ax.plot(0, 0, "k*", ms=10)
    ax.set(xlim=(-limit, limit), ylim=(-limit, limit), xlabel="θ (generator)", ylabel="w (critic)")
    return ax
