"""Gradient descent–ascent: simultaneous and alternating."""
from __future__ import annotations

from typing import NamedTuple

import optax
from jax import lax
from jax.core import Tracer

from minimax.game import Players
from minimax.updates.base import evaluate_at, require_field_fn, require_params, step_to

_zeros = optax.tree_utils.tree_zeros_like

#: Orders of :func:`alternating`'s half-steps.
ORDERS = ("critic_first", "generator_first")


def simultaneous(inner: optax.GradientTransformation) -> optax.GradientTransformationExtraArgs:
    """Simultaneous gradient descent–ascent (GDA).

        p_{k+1} = P(p_k + inner(F(p_k))),   with inner = sgd(η):  p_{k+1} = p_k − η F(p_k).

    Both players move at once from the same point. ``inner`` is any optax
    transformation (``optax.sgd(η)``, ``optax.adam(η)``, :func:`minimax.updates.timescaled`
    for τ-GDA). Extra arguments such as ``field_fn`` are accepted and ignored; the run
    applies the projection P.

    Reference: Arrow, Hurwicz, Uzawa, "Studies in linear and non-linear programming", 1958.
    """
    inner = optax.with_extra_args_support(inner)

    def update(field, state, params=None, **extra):
        if params is not None:
            require_params(params, "simultaneous", field)
        return inner.update(field, state, params, **extra)

    return optax.GradientTransformationExtraArgs(inner.init, update)


class AlternatingState(NamedTuple):
    """Separate inner states for the max-player and the min-player half-steps."""

    max_state: optax.OptState
    min_state: optax.OptState


def alternating(inner: optax.GradientTransformation, max_steps=1, *, order: str = "critic_first",
                resample: bool = False) -> optax.GradientTransformationExtraArgs:
    """Alternating GDA with M max-player (critic) steps per min-player (generator) step.

    ``order="critic_first"`` (k critic steps, then the generator, as in GAN training):

        w_0 = w_k,   w_{m+1} = P(w_m + inner_w(F_w(θ_k, w_m))),  m = 0..M−1
        θ_{k+1} = P(θ_k + inner_θ(F_θ(θ_k, w_M))),   w_{k+1} = w_M

    ``order="generator_first"`` (Mescheder et al.'s ``altgd``):

        θ_{k+1} = P(θ_k + inner_θ(F_θ(θ_k, w_k))),   then the M critic steps at θ_{k+1}.

    With inner = sgd(η), M = 1, critic first: w⁺ = w − η F_w(θ, w), θ⁺ = θ − η F_θ(θ, w⁺).
    The field passed to ``update`` is F(p_k), used by the first half-step; the others call
    ``field_fn``. With ``resample`` every half-step after the first draws a fresh minibatch
    (``field_fn(p, draw=i)``, i = 1, 2, ...; the WGAN-GP recipe); without, all use the step's
    minibatch. The two players keep separate inner states (two optimizers, as in GAN
    training); each half-step sees the whole :class:`Players` tree with the other player's
    field set to zero, so player-aware transformations such as two-timescale scaling
    compose unchanged.

    Args:
      inner: the transformation applied at every half-step.
      max_steps: M >= 1, traceable (a traced M runs as a while loop; use forward-mode
        differentiation through it).
      order: ``"critic_first"`` or ``"generator_first"``.
      resample: a fresh minibatch for every half-step after the first.

    References: Goodfellow et al., "Generative adversarial nets", NeurIPS 2014 (k critic
    steps per generator step); Gulrajani et al., "Improved training of Wasserstein GANs",
    NeurIPS 2017 (a fresh batch per critic step); Mescheder, Geiger, Nowozin, "Which training
    methods for GANs do actually converge?", ICML 2018 (generator first); Gidel et al.,
    "Negative momentum for improved game dynamics", AISTATS 2019.
    """
    if not isinstance(max_steps, Tracer) and (int(max_steps) != max_steps or max_steps < 1):
        raise ValueError(f"alternating: `max_steps` must be an integer >= 1, got {max_steps!r}")
    if order not in ORDERS:
        raise ValueError(f"alternating: `order` must be one of {ORDERS}, got {order!r}")
    inner = optax.with_extra_args_support(inner)

    def init(params):
        return AlternatingState(inner.init(params), inner.init(params))

    def update(field, state, params=None, *, field_fn=None, projection=None, **extra):
        require_params(params, "alternating", field)
        require_field_fn(field_fn, "alternating")
        kw = dict(extra, field_fn=field_fn, projection=projection)

        def critic_step(p, f, s):
            u, s = inner.update(Players(_zeros(f.min), f.max), s, p, **kw)
            return step_to(p, Players(_zeros(p.min), u.max), projection), s

        def generator_step(p, f, s):
            u, s = inner.update(Players(f.min, _zeros(f.max)), s, p, **kw)
            return step_to(p, Players(u.min, _zeros(p.max)), projection), s

        def critic_loop(p, s, first_draw, lower):
            body = lambda m, c: critic_step(c[0], evaluate_at(field_fn, c[0], first_draw + m, resample), c[1])
            return lax.fori_loop(lower, max_steps, body, (p, s))

        if order == "critic_first":
            p, s_max = critic_step(params, field, state.max_state)
            p, s_max = critic_loop(p, s_max, 0, 1)
            p, s_min = generator_step(p, evaluate_at(field_fn, p, max_steps, resample), state.min_state)
        else:
            p, s_min = generator_step(params, field, state.min_state)
            p, s_max = critic_loop(p, state.max_state, 1, 0)
        return optax.tree_utils.tree_sub(p, params), AlternatingState(s_max, s_min)

    return optax.GradientTransformationExtraArgs(init, update)
