"""The GAN game builder: models + distance + data + latents → a :class:`minimax.Game`.

With generator G_θ, critic f_w, data x and latent codes z, a
:class:`~minimax.losses.distances.Distance` gives each player's loss on the critic's
outputs, and the game is general-sum:

    L_θ(θ, w) = generator_loss(f_w(x), f_w(G_θ(z)))
    L_w(θ, w) = critic_loss(f_w(x), f_w(G_θ(z))) + Σ_r r(f, w, x, G_θ(z), key_r),

the sum over the distance's regularizers and any given to the builder.

Data and latents each come from a fixed array or a sampler ``key -> batch``. The
latent source is the switch between the two risks of the reference (000):

* ``latent=sampler`` (fresh z each step): population risk R(θ) = D(ν̂, (G_θ)_# ξ);
* ``latent=ẑ`` (a fixed array ẑ₁..ẑₙ): empirical risk R̃(θ) = D(ν̂, (G_θ)_# ξ̂), the
  setting of memorization and benign overfitting.

A discriminator-free objective (MMD², energy distance, sliced Wasserstein, as in
:mod:`minimax.losses.sample_distances`) is a callable ``(real, fake, key) -> scalar``
given with ``critic_apply=None``; the critic player is then the empty tuple ``()``.

Models are anything mapping ``(params, input) -> output``: plain functions, a flax
linen module's ``apply``, an nnx module through :func:`minimax.models.nnx_model`.

Reference: Goodfellow et al., "Generative adversarial nets", NeurIPS 2014; population
vs empirical risk: ``shared/references/000``.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence, Union

import jax
import jax.numpy as jnp

from minimax.game import Game, Players
from minimax.losses.distances import Distance
from minimax.updates.projection import on_max_player

Source = Union[jax.Array, Callable]


def normal_latent(batch_size: int, shape=(2,), dtype=jnp.float32) -> Callable:
    """A latent sampler ``key -> z`` with z of shape (batch_size, *shape), z ~ N(0, I).

    Pass it as ``latent=`` for fresh codes each step (population risk), or pass
    ``normal_latent(n, shape)(key)`` to fix n codes once (empirical risk).
    """
    if batch_size < 1:
        raise ValueError(f"normal_latent: `batch_size` must be >= 1, got {batch_size}")
    shape = (batch_size,) + ((shape,) if isinstance(shape, int) else tuple(shape))
    return lambda key: jax.random.normal(key, shape, dtype)


def _source(source, name: str):
    if callable(source):
        return source
    arr = jnp.asarray(source)
    if arr.ndim == 0 or arr.shape[0] == 0:
        raise ValueError(f"gan_game: `{name}` must be a sampler `key -> batch` or an array with a leading "
                         f"batch axis, got shape {arr.shape}")
    return arr


def gan_game(generator_apply: Callable, critic_apply: Optional[Callable], distance: Union[Distance, Callable],
             data: Source, latent: Source, *, regularizers: Sequence[Callable] = (), name: Optional[str] = None,
             sample_init: Optional[Callable] = None) -> Game:
    """Builds the GAN game on :class:`~minimax.game.Players` ``(θ, w)`` = (generator, critic) params.

    Args:
      generator_apply: ``G(θ, z) -> samples`` (batch first).
      critic_apply: ``f(w, x) -> outputs`` (batch first), or None with a
        discriminator-free ``distance``.
      distance: a :class:`~minimax.losses.distances.Distance` (the game is general-sum
        with loss = its generator loss and max_loss = its critic loss plus its own
        ``regularizers`` and those given here; its ``critic_projection`` becomes the
        game's projection, applied to the max player), or a callable
        ``(real, fake, key) -> scalar`` minimized by the generator alone.
      data: an array of real samples (the full batch every step) or a sampler ``key -> batch``.
      latent: a fixed array of codes ẑ (empirical risk) or a sampler ``key -> z``
        (population risk), e.g. :func:`normal_latent`.
      regularizers: each ``r(critic_apply, w, real, fake, key) -> scalar``, added to the
        critic's loss after the distance's own (gradient penalty, R1, R2, ...).
      name: the game's name; default ``"gan_" + distance.name``.
      sample_init: ``key -> Players`` for the game record (e.g. a partial of :func:`init_players`).

    The game's losses take ``(params, key)``; one key per step is split into the data,
    latent, regularizer and objective keys, so both players see the same batch. The key
    may be None only when data and latents are fixed arrays and no regularizer is present.
    """
    if not callable(generator_apply):
        raise TypeError(f"gan_game: `generator_apply` must be callable, got {type(generator_apply).__name__}")
    critic_game = isinstance(distance, Distance)
    if critic_game and not callable(critic_apply):
        raise TypeError("gan_game: a Distance needs a callable `critic_apply`")
    if not critic_game:
        if not callable(distance):
            raise TypeError(f"gan_game: `distance` must be a Distance or a callable (real, fake, key) -> scalar, "
                            f"got {type(distance).__name__}")
        if critic_apply is not None or regularizers:
            raise ValueError("gan_game: a discriminator-free objective takes `critic_apply=None` and no regularizers")
    if critic_game:
        distance = distance.with_regularizers(*regularizers)  # checks they are callable
    data, latent = _source(data, "data"), _source(latent, "latent")
    needs_key = callable(data) or callable(latent) or (critic_game and bool(distance.regularizers))

    def batches(params, key):
        """The real batch, the generated batch and the key left for regularizers / the objective."""
        if key is None:
            if needs_key:
                raise ValueError("gan_game: this game samples data, latents or regularizer noise; pass a PRNG key")
            keys = [None] * 3
        else:
            keys = list(jax.random.split(key, 3))
        real = data(keys[0]) if callable(data) else data
        z = latent(keys[1]) if callable(latent) else latent
        fake = generator_apply(params.min, z)
        if jnp.shape(fake)[1:] != jnp.shape(real)[1:]:
            raise ValueError(f"gan_game: generated samples have sample shape {jnp.shape(fake)[1:]} but data "
                             f"samples have {jnp.shape(real)[1:]}")
        return real, fake, keys[2]

    if critic_game:
        def loss(params, key=None):
            real, fake, _ = batches(params, key)
            return distance.generator_loss(critic_apply(params.max, real), critic_apply(params.max, fake))

        def max_loss(params, key=None):
            real, fake, reg_key = batches(params, key)
            value = distance.critic_loss(critic_apply(params.max, real), critic_apply(params.max, fake))
            return value + distance.regularization(critic_apply, params.max, real, fake, reg_key)

        proj = distance.critic_projection
        return Game(loss=loss, max_loss=max_loss, name=name or f"gan_{distance.name}", sample_init=sample_init,
                    projection=None if proj is None else on_max_player(proj))

    def objective(params, key=None):
        real, fake, obj_key = batches(params, key)
        return distance(real, fake, obj_key)

    return Game(loss=objective, name=name or f"gan_{getattr(distance, '__name__', 'objective')}",
                sample_init=sample_init)


def init_players(generator, critic, key, latent: Source) -> Players:
    """Initial :class:`Players` of two flax linen modules (anything with ``init``/``apply``).

    The generator is initialized on a latent batch (``latent``: an array, or a sampler
    called with a subkey), the critic on the generator's output; ``critic=None`` gives
    the empty critic ``()`` of a discriminator-free game.
    """
    for m, what in ((generator, "generator"), (critic, "critic")):
        if m is not None and not (hasattr(m, "init") and hasattr(m, "apply")):
            raise TypeError(f"init_players: `{what}` must have `init` and `apply` (a flax linen module), "
                            f"got {type(m).__name__}; split nnx modules with minimax.models.nnx_model")
    kg, kc, kz = jax.random.split(key, 3)
    z = latent(kz) if callable(latent) else jnp.asarray(latent)
    gen_params = generator.init(kg, z)
    if critic is None:
        return Players(gen_params, ())
    return Players(gen_params, critic.init(kc, generator.apply(gen_params, z)))
