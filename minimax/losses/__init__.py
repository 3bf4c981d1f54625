"""Statistical distances as pure functions.

* :mod:`~minimax.losses.critic` — element-wise losses of critic outputs.
* :mod:`~minimax.losses.fdivergences` — the f-GAN table (f, f*, dom f*, g_f, f′(1)).
* :mod:`~minimax.losses.distances` — :class:`Distance` records and the registry ``DISTANCES``.
* :mod:`~minimax.losses.regularizers` — gradient penalties, R1/R2.
* :mod:`~minimax.losses.sample_distances` — discriminator-free distances (MMD, energy, sliced W).
* :mod:`~minimax.losses.variants` — McGAN, Fisher, Cramér, relaxed Wasserstein, EBGAN, BEGAN, MAGAN.
* :mod:`~minimax.losses.references` — closed-form divergences for tests and notebooks.
"""
from minimax.losses import references
from minimax.losses.critic import hinge, least_squares, linear, logistic, non_saturating
from minimax.losses.distances import (DISTANCES, Distance, fgan_distance, from_critic_loss, hinge_distance,
                                      lsgan_distance, non_saturating_distance)
from minimax.losses.fdivergences import (FDIVERGENCES, FDivergence, alpha_divergence, get_fdivergence,
                                         weighted_jensen_shannon)
from minimax.losses.regularizers import gradient_penalty, one_sided_gradient_penalty, r1_penalty, r2_penalty
from minimax.losses.sample_distances import (energy_distance, energy_kernel, gaussian_kernel, imq_kernel, mmd2,
                                             mmd_gan, sliced_wasserstein, sq_distances, wasserstein_1d,
                                             wasserstein_lp, wasserstein_lp_dual)
from minimax.losses.variants import (FisherCritic, began_convergence, began_distance, began_update,
                                     cramer_critic, cramer_critic_loss, cramer_distance, cramer_generator_loss,
                                     ebgan_distance, fisher_critic, fisher_distance, fisher_lagrangian,
                                     MaganState, magan_distance, magan_margin_update, mcgan_covariance,
                                     mcgan_distance, mcgan_mean,
                                     pulling_away, reconstruction_energy, relaxed_wasserstein_distance)

__all__ = [
    "linear", "logistic", "non_saturating", "least_squares", "hinge",
    "DISTANCES", "Distance", "from_critic_loss", "fgan_distance", "hinge_distance", "lsgan_distance",
    "non_saturating_distance",
    "FDIVERGENCES", "FDivergence", "alpha_divergence", "get_fdivergence", "weighted_jensen_shannon",
    "gradient_penalty", "one_sided_gradient_penalty", "r1_penalty", "r2_penalty",
    "mcgan_mean", "mcgan_covariance", "mcgan_distance", "FisherCritic", "fisher_critic", "fisher_lagrangian",
    "fisher_distance", "cramer_critic", "cramer_critic_loss", "cramer_generator_loss", "cramer_distance",
    "relaxed_wasserstein_distance", "reconstruction_energy", "ebgan_distance", "pulling_away",
    "began_distance", "began_update", "began_convergence", "magan_distance", "magan_margin_update", "MaganState",
    "mmd2", "gaussian_kernel", "imq_kernel", "energy_kernel", "energy_distance", "sq_distances", "wasserstein_1d",
    "sliced_wasserstein", "wasserstein_lp", "wasserstein_lp_dual", "mmd_gan",
    "references",
]
