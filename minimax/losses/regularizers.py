"""Regularizers of the critic and of the whole game, as pure functions.

Critic regularizers share one signature,

    reg(critic_apply, critic_params, real, fake, key) -> scalar,

where ``critic_apply(params, x)`` returns one output per sample, shape (batch,). They are
composed with a distance, not switched on by flags: given to the game builder
(``gan_game(..., regularizers=[...])``) or carried by the distance (``Distance.regularizers``,
summed by :meth:`minimax.losses.Distance.regularization`), and added to the critic's loss.
Hyperparameters are keyword-only (bind them with ``functools.partial``) and may be traced,
so a sweep over them is vmapped. Input gradients are those of Σ_i f(x_i): the per-sample gradients when the critic
treats samples independently (no batch normalization).

Weight clipping is a projection, not a penalty: :func:`minimax.updates.box` with
:func:`minimax.updates.project`. Consensus optimization acts on the whole game's field: it is
a field transform, :func:`minimax.fields.consensus`.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp


def safe_norm(x, axis=None):
    """‖x‖₂ over ``axis``, with gradient 0 (not NaN) where x = 0."""
    sq = jnp.sum(jnp.square(x), axis=axis)
    positive = sq > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, sq, 1.0)), 0.0)


def _input_gradients(critic_apply, critic_params, x):
    """∇_x f(x_i) for each sample, shape x.shape; checks the critic returns (batch,)."""
    x = jnp.asarray(x)
    if x.ndim < 1:
        raise ValueError(f"regularizer: samples need a leading batch axis, got shape {x.shape}")
    out, vjp = jax.vjp(lambda y: critic_apply(critic_params, y), x)
    if jnp.shape(out) != x.shape[:1]:
        raise ValueError(f"regularizer: critic_apply must return one output per sample, shape {x.shape[:1]}, "
                         f"got {jnp.shape(out)}")
    return vjp(jnp.ones_like(out))[0]


def _sample_axes(x):
    return tuple(range(1, jnp.ndim(x)))


def _interpolate(real, fake, key):
    real, fake = jnp.asarray(real), jnp.asarray(fake)
    if real.shape != fake.shape:
        raise ValueError(f"gradient penalty: real and fake samples must have the same shape to be interpolated, "
                         f"got {real.shape} and {fake.shape}")
    if key is None:
        raise ValueError("gradient penalty: pass a PRNG key (it draws the interpolation weights)")
    eps = jax.random.uniform(key, real.shape[:1] + (1,) * (real.ndim - 1), dtype=jnp.result_type(real, float))
    return eps * real + (1.0 - eps) * fake


def _interpolate_grad_norms(critic_apply, critic_params, real, fake, key):
    x_hat = _interpolate(real, fake, key)
    return safe_norm(_input_gradients(critic_apply, critic_params, x_hat), axis=_sample_axes(x_hat))


def gradient_penalty(critic_apply, critic_params, real, fake, key, *, weight=10.0):
    """λ·E_x̂[(‖∇_x̂ f(x̂)‖₂ − 1)²], x̂ = εx + (1−ε)x̃, ε ~ U[0, 1] per sample (two-sided, WGAN-GP).

    Reference: Gulrajani et al., "Improved training of Wasserstein GANs", NeurIPS 2017.
    """
    norms = _interpolate_grad_norms(critic_apply, critic_params, real, fake, key)
    return weight * jnp.mean(jnp.square(norms - 1.0))


def one_sided_gradient_penalty(critic_apply, critic_params, real, fake, key, *, weight=10.0):
    """λ·E_x̂[max(0, ‖∇_x̂ f(x̂)‖₂ − 1)²] on the same interpolates: penalizes only slopes above 1.

    References: Gulrajani et al., NeurIPS 2017; Petzka, Fischer, Lukovnikov, "On the
    regularization of Wasserstein GANs", ICLR 2018.
    """
    norms = _interpolate_grad_norms(critic_apply, critic_params, real, fake, key)
    return weight * jnp.mean(jnp.square(jax.nn.relu(norms - 1.0)))


def _half_mean_sq_grad(critic_apply, critic_params, x, weight):
    g = _input_gradients(critic_apply, critic_params, x)
    return 0.5 * weight * jnp.mean(jnp.sum(jnp.square(g), axis=_sample_axes(g)))


def r1_penalty(critic_apply, critic_params, real, fake=None, key=None, *, weight=10.0):
    """R1 = (γ/2)·E_data‖∇_x f(x)‖²: penalizes the critic's slope on real samples.

    Reference: Mescheder, Geiger, Nowozin, "Which training methods for GANs do actually
    converge?", ICML 2018.
    """
    return _half_mean_sq_grad(critic_apply, critic_params, real, weight)


def r2_penalty(critic_apply, critic_params, real, fake, key=None, *, weight=10.0):
    """R2 = (γ/2)·E_model‖∇_x f(x)‖²: the same on generated samples.

    Reference: Mescheder, Geiger, Nowozin, ICML 2018.
    """
    return _half_mean_sq_grad(critic_apply, critic_params, fake, weight)
