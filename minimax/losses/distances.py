"""Distances as records: how to build both players' losses from critic outputs.

A :class:`Distance` says what the critic (max player) and the generator (min player)
each minimize, given the critic's outputs on a batch of real samples and on a batch of
generated samples. The GAN game builder (:mod:`minimax.games.gan`) turns it into a
:class:`minimax.Game`; regularizers are added to the critic's loss there.

For a loss l, the zero-sum game L = −E l(f(x)) − E l(−f(G(z))) gives
critic_loss = E l(f(x)) + E l(−f(G(z))) = −L and generator_loss = L.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Optional

import jax.numpy as jnp

from minimax.losses.critic import linear, logistic


@dataclasses.dataclass(frozen=True)
class Distance:
    """A statistical distance written as a game on critic outputs.

    Attributes:
      name: registry name.
      critic_loss: ``critic_loss(real_out, fake_out) -> scalar``, L_w (minimized by the critic).
      generator_loss: ``generator_loss(real_out, fake_out) -> scalar``, L_θ.
      critic_projection: projection of the critic's parameters onto its constraint
        set (e.g. weight clipping), or None.
      zero_sum: whether generator_loss = −critic_loss.
    """

    name: str
    critic_loss: Callable
    generator_loss: Callable
    critic_projection: Optional[Callable] = None
    zero_sum: bool = True


def from_critic_loss(name: str, l: Callable, **kwargs) -> Distance:
    """The zero-sum distance of an element-wise loss l: L = −E l(f(x)) − E l(−f(G(z)))."""
    critic = lambda real, fake: jnp.mean(l(real)) + jnp.mean(l(-fake))
    return Distance(name, critic, lambda real, fake: -critic(real, fake), **kwargs)


def _registry() -> dict:
    from minimax.updates.projection import box
    return {
        "js": from_critic_loss("js", logistic),
        "wasserstein": from_critic_loss("wasserstein", linear, critic_projection=box(-0.01, 0.01)),
        "zero_infinity": from_critic_loss("zero_infinity", linear),
    }


#: name -> Distance.
DISTANCES = _registry()


def get(name: str) -> Distance:
    if name not in DISTANCES:
        raise ValueError(f"unknown distance {name!r}; expected one of {sorted(DISTANCES)}")
    return DISTANCES[name]
