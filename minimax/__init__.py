"""minimax: statistical distances and saddle-point update rules for generative models, in JAX."""
from minimax import games, losses, updates
from minimax.diagnostics import field_eigenvalues, field_jacobian, spectral_radius, update_map_jacobian
from minimax.game import Game, Players, descent_field

__version__ = "0.1.0"

__all__ = ["Game", "Players", "descent_field", "field_jacobian", "field_eigenvalues", "spectral_radius",
           "update_map_jacobian", "games", "losses", "updates", "__version__"]
