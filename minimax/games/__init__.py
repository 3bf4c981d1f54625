"""Games: toy games with known equilibria, the GAN game builder, the zero-infinity last-layer game."""
from minimax.games.gan import gan_game, init_players, normal_latent
from minimax.games.last_layer import (last_layer_generator, min_norm_interpolant, random_features, range_features,
                                      w2_last_layer, zero_infinity_last_layer)
from minimax.games.toy import (DIRAC_DISTANCES, bilinear, dirac_gan, quadratic, rotation_spectral_radius,
                               translation_gan)

__all__ = ["DIRAC_DISTANCES", "bilinear", "dirac_gan", "quadratic", "rotation_spectral_radius", "translation_gan",
           "gan_game", "init_players", "normal_latent", "zero_infinity_last_layer", "w2_last_layer",
           "random_features", "last_layer_generator", "min_norm_interpolant", "range_features"]
