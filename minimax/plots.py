"""PNG figures shared by the experiments: image mosaics, 2-D scatter panels, seed-band curves (matplotlib, Agg)."""
from __future__ import annotations

import math
from typing import Dict, Sequence, Tuple

import numpy as np


def pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save_figure(fig, path: str, title: str = ""):
    """Titles, lays out and writes ``fig`` as a PNG at ``path``, then frees it."""
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    from minimax.results import _main_process, atomic_open
    if _main_process():  # with several processes only process 0 writes
        with atomic_open(path, "wb") as f:
            fig.savefig(f, dpi=110, format="png")
    pyplot().close(fig)


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


def image_mosaic(path: str, panels: Sequence[Tuple[str, np.ndarray]], *, image_shape=(28, 28), cols: int = 8,
                 title: str = "", panels_per_row: int = 3):
    """One subplot per (title, images) panel, each a mosaic of its images; written to ``path``."""
    plt = pyplot()
    n_rows = math.ceil(len(panels) / panels_per_row)
    n_cols = min(panels_per_row, len(panels))
    image_rows = max(math.ceil(len(images) / cols) for _, images in panels)
    panel_size = (0.36 * cols + 0.4, 0.36 * image_rows + 0.6)  # inches, so digits stay legible
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(panel_size[0] * n_cols, panel_size[1] * n_rows + 0.4),
                             squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, (label, images) in zip(axes.ravel(), panels):
        ax.imshow(mosaic(images, image_shape, cols), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(label, fontsize=9)
    save_figure(fig, path, title)


def _draw_bands(ax, steps, curves: Dict[str, np.ndarray]):
    for label, values in curves.items():
        values = np.asarray(values, np.float64)
        lo, mid, hi = np.nanmin(values, 0), np.nanmedian(values, 0), np.nanmax(values, 0)
        (line,) = ax.plot(steps, mid, label=label, lw=1.4)
        ax.fill_between(steps, lo, hi, color=line.get_color(), alpha=0.2)


def seed_bands(path: str, steps, curves: Dict[str, np.ndarray], *, ylabel: str, title: str = "", log: bool = False):
    """Median over seeds and the min–max band of each curve (seeds, len(steps)); written to ``path``."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    _draw_bands(ax, steps, curves)
    if log:
        ax.set_yscale("log")
    ax.set(xlabel="step", ylabel=ylabel, title=title)
    ax.legend(fontsize=7, ncol=2)
    save_figure(fig, path)


def seed_band_panels(path: str, steps, panels: Dict[str, Dict[str, np.ndarray]], *, ylabel: str, title: str = "",
                     panels_per_row: int = 4):
    """:func:`seed_bands` as small multiples: one subplot per panel title, each with its own curves, shared axes."""
    plt = pyplot()
    n_rows = math.ceil(len(panels) / panels_per_row)
    n_cols = min(panels_per_row, len(panels))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(3.2 * n_cols, 2.6 * n_rows + 0.4), squeeze=False,
                             sharex=True, sharey=True)
    for ax in axes.ravel()[len(panels):]:
        ax.axis("off")
    for ax, (panel, curves) in zip(axes.ravel(), panels.items()):
        _draw_bands(ax, steps, curves)
        ax.set_title(panel, fontsize=9)
        ax.legend(fontsize=7)
    for ax in axes[-1]:
        ax.set_xlabel("step")
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel)
    save_figure(fig, path, title)


def scatter_panels(path: str, panels: Sequence[Tuple[str, np.ndarray]], *, markers=None, title: str = "",
                   panels_per_row: int = 4, limit=None):
    """One 2-D scatter subplot per (title, points (n, 2)) panel, with ``markers`` (k, 2) drawn
    as red crosses on every panel (e.g. mixture centers); axes ±``limit`` (default: fit the markers)."""
    plt = pyplot()
    n_rows = math.ceil(len(panels) / panels_per_row)
    n_cols = min(panels_per_row, len(panels))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(2.8 * n_cols, 2.8 * n_rows + 0.4), squeeze=False)
    for ax in axes.ravel()[len(panels):]:
        ax.axis("off")
    if limit is None and markers is not None:
        limit = 1.25 * float(np.max(np.abs(markers)))
    for ax, (label, points) in zip(axes.ravel(), panels):
        points = np.asarray(points)
        if markers is not None:
            ax.scatter(np.asarray(markers)[:, 0], np.asarray(markers)[:, 1], s=14, c="red", marker="x", lw=0.8)
        ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.5, lw=0)
        if limit is not None:
            ax.set(xlim=(-limit, limit), ylim=(-limit, limit))
        ax.set_aspect("equal")
        ax.set_xticks([]), ax.set_yticks([])
        ax.set_title(label, fontsize=8)
    save_figure(fig, path, title)
