"""Games: toy games with known equilibria and the GAN game builder."""
from minimax.games.gan import gan_game, init_players, normal_latent
from minimax.games.toy import (DIRAC_DISTANCES, bilinear, dirac_gan, quadratic, rotation_spectral_radius,
                               translation_gan)

__all__ = ["DIRAC_DISTANCES", "bilinear", "dirac_gan", "quadratic", "rotation_spectral_radius", "translation_gan",
           "gan_game", "init_players", "normal_latent"]
