"""Minimization baselines: likelihood, score and flow-matching models as single-player games.

Each family is a model (a frozen dataclass: networks, ``init``, ``noise(key, n)`` and a sampler
``sample(params, noise)``) and a factory returning a :class:`minimax.Game` whose max player is
the empty tuple ``()`` and whose ``args`` hold the data (a :func:`minimax.data.minibatches`
sampler), so :func:`minimax.train.run` / :func:`minimax.train.sweep` train it with any rule,
e.g. ``minimax.updates.simultaneous(optax.adam(1e-3))``:

=================  ===============================================  ==============================================
family             model, game                                      objective
=================  ===============================================  ==============================================
VAE                :class:`vae.VAE`, :func:`vae_game`               −ELBO; reparameterization or score-function
                                                                    gradient (:func:`vae.gradient_variance`)
normalizing flow   :class:`flow.RealNVP`, :func:`flow_game`         exact negative log-likelihood (RealNVP)
score matching     :class:`score_matching.ScoreModel`,              denoising score matching, σ log-uniform;
                   :func:`score_matching_game`                      probability-flow ODE / annealed Langevin
flow matching      :class:`flow_matching.FlowMatchingModel`,        conditional flow matching; independent or
                   :func:`flow_matching_game`                       minibatch-OT pairing (``coupling=``)
=================  ===============================================  ==============================================

:mod:`minimax.baselines.ode` holds the fixed-step ODE integrator and the straightness of
sampled paths. The OT pairing imports :mod:`minimax.ot` (ott-jax) only when used.
"""
from minimax.baselines import flow, flow_matching, ode, score_matching, vae
from minimax.baselines.flow import RealNVP, flow_game
from minimax.baselines.flow_matching import FlowMatchingModel, flow_matching_game
from minimax.baselines.score_matching import ScoreModel, score_matching_game
from minimax.baselines.vae import VAE, gradient_variance, vae_game

__all__ = ["VAE", "RealNVP", "ScoreModel", "FlowMatchingModel", "vae_game", "flow_game", "score_matching_game",
           "flow_matching_game", "gradient_variance", "flow", "flow_matching", "ode", "score_matching", "vae"]
