"""The shared setup of the tutorial notebooks (``notebooks/``) and their Colab install cell.

Every notebook opens with the same first code cell, :func:`first_cell`: on Colab it installs
minimax (:data:`COLAB_INSTALL`), then ``QUICK = minimax.notebook_setup()`` prints the devices
and chooses the problem size. The Colab badges and the install's fallback point at
:data:`REPOSITORY`; after changing it, run ``python notebooks/sync.py`` to rewrite the
notebooks.
"""
from __future__ import annotations

import os
from typing import Optional

#: The GitHub repository ("owner/name") that the Colab badges open and the install falls back to.
REPOSITORY = "minimax-dev/minimax"
#: The distribution published on PyPI (the import name is ``minimax``).
DISTRIBUTION = "jax-minimax"
#: The environment variable that forces the problem size: "1" small (QUICK), "0" full.
QUICK_ENV = "MINIMAX_QUICK"

#: The install part of the first cell. It runs before minimax is importable, so it is plain code
#: in the cell (kept identical in every notebook by ``notebooks/sync.py`` and the tests). With jax
#: already installed (Colab's accelerator build) minimax comes with ``--no-deps`` and its other
#: dependencies are installed with jax and jaxlib pinned at their installed versions.
COLAB_INSTALL = '''\
# On Colab: install minimax (PyPI, else GitHub), keeping Colab's own build of jax.
import sys
if "google.colab" in sys.modules:
    import importlib.metadata as metadata, importlib.util, re, subprocess
    pip = lambda *args: subprocess.run([sys.executable, "-m", "pip", "install", "-q", *args]).returncode == 0
    flags = ["--no-deps"] if importlib.util.find_spec("jax") else []
    if not (pip(*flags, "__DISTRIBUTION__") or pip(*flags, "git+https://github.com/__REPOSITORY__.git")):
        raise RuntimeError("could not install minimax")
    if flags:  # minimax's other dependencies, with jax and jaxlib held at Colab's versions
        importlib.invalidate_caches()
        deps = [r for r in metadata.requires("__DISTRIBUTION__")
                if "extra ==" not in r and re.match(r"[\\w.-]+", r)[0] not in ("jax", "jaxlib")]
        if not pip(*deps, *(f"{name}=={metadata.version(name)}" for name in ("jax", "jaxlib"))):
            raise RuntimeError("could not install minimax's dependencies next to Colab's jax")
'''.replace("__DISTRIBUTION__", DISTRIBUTION).replace("__REPOSITORY__", REPOSITORY)

#: How the first cell continues after the install.
SETUP_LINE = "import minimax\n\nQUICK = minimax.notebook_setup({arguments})"


def first_cell(arguments: str = "") -> str:
    """The source of a notebook's first code cell; ``arguments`` go to :func:`notebook_setup`."""
    return COLAB_INSTALL + "\n" + SETUP_LINE.format(arguments=arguments)


def colab_url(notebook: str) -> str:
    """The Colab address of ``notebooks/<notebook>.ipynb`` on the main branch of :data:`REPOSITORY`."""
    return f"https://colab.research.google.com/github/{REPOSITORY}/blob/main/notebooks/{notebook}.ipynb"


def colab_badge(notebook: str) -> str:
    """The Markdown "Open in Colab" badge of ``notebook`` (its name without ``.ipynb``)."""
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab_url(notebook)})"


def quick_mode(backend: str) -> bool:
    """QUICK (small sizes): :data:`QUICK_ENV` = "1"/"0" decides; unset, QUICK on CPU and full size elsewhere."""
    value = os.environ.get(QUICK_ENV, "").strip()
    if value not in ("", "0", "1"):
        raise ValueError(f"{QUICK_ENV} must be 1 (small sizes), 0 (full sizes) or unset, got {value!r}")
    return value == "1" if value else backend == "cpu"


def notebook_setup(*, cpu_devices: Optional[int] = None) -> bool:
    """Prints JAX's devices and returns QUICK, whether the notebook runs at its small size.

    Args:
      cpu_devices: expose the host CPU as this many XLA devices (``jax_num_cpu_devices``), so
        that code sharding over devices runs on a CPU too; GPU and TPU backends are unaffected.
        It takes effect only before JAX has started its backends (the first cell).

    Returns:
      QUICK: forced by the environment variable ``MINIMAX_QUICK`` (``1``: small sizes,
      ``0``: full sizes); otherwise True on CPU and False on a GPU or TPU.

    Examples:
        >>> import minimax
        >>> QUICK = minimax.notebook_setup()  # doctest: +ELLIPSIS
        JAX ... devices: [...]
        QUICK = ...
    """
    import jax

    _display_figures()
    if cpu_devices is not None:
        jax.config.update("jax_num_cpu_devices", int(cpu_devices))
    print("JAX", jax.__version__, "devices:", jax.devices())
    quick = quick_mode(jax.default_backend())
    print("QUICK =", quick, "(small sizes)" if quick else "(full sizes)", f"- set {QUICK_ENV}=0 or 1 to choose")
    return quick


def _display_figures():
    """In a Jupyter kernel, displays a :class:`matplotlib.figure.Figure` that ends a cell as a PNG
    (as pyplot's inline backend would, once active), without changing the matplotlib backend."""
    try:
        from IPython import get_ipython
        from IPython.core.pylabtools import select_figure_formats
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and getattr(shell, "kernel", None) is not None:
        select_figure_formats(shell, {"png"})
