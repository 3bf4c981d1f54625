"""minimax: statistical distances and saddle-point update rules for generative models, in JAX.

``import minimax`` gives the submodules ``train``, ``games``, ``updates``, ``fields``, ``losses``,
``metrics``, ``models``, ``data`` and ``diagnostics``. ``minimax.ot`` (which needs ott-jax,
itself importing jaxopt) is loaded on first use.
"""
import importlib

from minimax import data, diagnostics, fields, games, losses, metrics, models, train, updates
from minimax.diagnostics import field_eigenvalues, field_jacobian, spectral_radius, update_map_jacobian
from minimax.game import FieldEvaluation, Game, Players, descent_field
from minimax.notebook import notebook_setup

__version__ = "0.2.0"

__all__ = ["Game", "Players", "FieldEvaluation", "descent_field", "field_jacobian", "field_eigenvalues",
           "spectral_radius", "update_map_jacobian", "data", "diagnostics", "fields", "games", "losses", "metrics",
           "models", "notebook_setup", "ot", "train", "updates", "__version__"]


def __getattr__(name):
    if name == "ot":
        return importlib.import_module("minimax.ot")
    raise AttributeError(f"module 'minimax' has no attribute {name!r}")
