"""Games: toy games with known equilibria."""
from minimax.games.toy import DIRAC_DISTANCES, bilinear, dirac_gan, quadratic, translation_gan

__all__ = ["DIRAC_DISTANCES", "bilinear", "dirac_gan", "quadratic", "translation_gan"]
