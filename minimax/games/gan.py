"""The GAN game builder: models + distance + data + latents → a :class:`minimax.Game`.

With generator G_θ, critic f_w, data x and latent codes z, a
:class:`~minimax.losses.distances.Distance` gives each player's loss on the critic's
outputs, and the game is general-sum:

    L_θ(θ, w) = generator_loss(f_w(x), f_w(G_θ(z)))
    L_w(θ, w) = critic_loss(f_w(x), f_w(G_θ(z))) + Σ_r r(f, w, x, G_θ(z), key_r),

the sum over the distance's regularizers and any given to the builder.

Data and latents each come from a **source**:

* an array: the full batch every step;
* a sampler that is a pytree, such as :func:`minimax.data.minibatches` (a fresh minibatch of
  a dataset each step) or :meth:`minimax.data.GaussianMixture.batches`: its arrays are
  leaves of the game;
* any other callable ``key -> batch`` (what it closes over is baked into the program).

Arrays and pytree samplers are the game's ``args``, traced when the game is a jit argument.
The latent source is the switch between the two risks of the reference (000):

* a sampler (fresh z each step): population risk R(θ) = D(ν̂, (G_θ)_# ξ);
* a fixed array ẑ₁..ẑₙ: empirical risk R̃(θ) = D(ν̂, (G_θ)_# ξ̂), the setting of
  memorization and benign overfitting.

A discriminator-free objective (MMD², energy distance, sliced Wasserstein, as in
:mod:`minimax.losses.sample_distances`) is a callable ``(real, fake, key) -> scalar``
given with ``critic_apply=None``; the critic player is then the empty tuple ``()``.

A distance with carried state (BEGAN's k_t, MAGAN's margin: ``Distance.init_state``) makes
a game with state: its losses also return the critic outputs (real, fake) as aux, from which
the run updates the state after every step (``Distance.update_state``).

Models are anything mapping ``(params, input) -> output``: plain functions, a flax
linen module's ``apply``, an nnx module through :func:`minimax.models.nnx_model`.

Reference: Goodfellow et al., "Generative adversarial nets", NeurIPS 2014; population
vs empirical risk: ``shared/references/000``.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Optional, Sequence, Union

import jax
import jax.numpy as jnp
import numpy as np

from minimax import validation
from minimax.game import Game, Players
from minimax.losses.distances import Distance
from minimax.updates.projection import on_max_player

Source = Union[jax.Array, Callable]


@dataclasses.dataclass(frozen=True)
class NormalLatent:
    """A latent sampler ``key -> z``, z ~ N(0, I) of shape ``(batch_size, *shape)``."""

    batch_size: int
    shape: tuple = (2,)
    dtype: object = jnp.float32

    def __call__(self, key):
        return jax.random.normal(key, (self.batch_size,) + self.shape, self.dtype)


def normal_latent(batch_size: int, shape=(2,), dtype=jnp.float32) -> NormalLatent:
    """A latent sampler ``key -> z`` with z of shape ``(batch_size, *shape)``, z ~ N(0, I).

    Pass it as ``latent=`` for fresh codes each step (population risk), or pass
    ``normal_latent(n, shape)(key)`` to fix n codes once (empirical risk).
    """
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"normal_latent: `batch_size` must be an integer >= 1, got {batch_size!r}")
    return NormalLatent(int(batch_size), (shape,) if isinstance(shape, int) else tuple(shape), dtype)


def _is_pytree_sampler(source) -> bool:
    return callable(source) and not jax.tree_util.treedef_is_leaf(jax.tree_util.tree_structure(source))


def _split_source(source, name: str):
    """(static sampler, leaf): a plain callable is static, an array or pytree sampler is a leaf."""
    if callable(source) and not _is_pytree_sampler(source):
        return source, None
    if _is_pytree_sampler(source):
        return None, source
    arr = validation.real_array("gan_game", name, source)
    if arr.ndim == 0 or arr.shape[0] == 0:
        raise ValueError(f"gan_game: `{name}` must be a sampler `key -> batch` or an array with a leading "
                         f"batch axis, got shape {tuple(arr.shape)}")
    return None, validation.finite("gan_game", name, arr)


def _draw(sampler, leaf, key):
    if sampler is not None:
        return sampler(key)
    return leaf(key) if callable(leaf) else leaf


@dataclasses.dataclass(frozen=True)
class GANLoss:
    """One player's loss in a GAN game, ``loss(params, key, args, state)`` with args = (data, latent) leaves.

    A frozen dataclass (equal when its parts are), so rebuilding the same game does not retrace.
    """

    generator_apply: Callable
    critic_apply: Optional[Callable]
    distance: Union[Distance, Callable]
    data_sampler: Optional[Callable]
    latent_sampler: Optional[Callable]
    needs_key: bool
    player: str  # "min" (generator) or "max" (critic)

    def batches(self, params, key, args):
        """The real batch, the generated batch and the key left for regularizers / the objective."""
        if key is None:
            if self.needs_key:
                raise ValueError("gan_game: this game samples data, latents or regularizer noise; pass a PRNG key")
            keys = [None] * 3
        else:
            keys = list(jax.random.split(key, 3))
        real = _draw(self.data_sampler, args[0], keys[0])
        z = _draw(self.latent_sampler, args[1], keys[1])
        fake = self.generator_apply(params.min, z)
        if jnp.shape(fake)[1:] != jnp.shape(real)[1:]:
            raise ValueError(f"gan_game: generated samples have sample shape {jnp.shape(fake)[1:]} but data "
                             f"samples have {jnp.shape(real)[1:]}")
        return real, fake, keys[2]

    def __call__(self, params, key, args, state):
        real, fake, rest = self.batches(params, key, args)
        if self.critic_apply is None:
            return self.distance(real, fake, rest)
        d = self.distance
        real_out, fake_out = self.critic_apply(params.max, real), self.critic_apply(params.max, fake)
        extra = () if d.init_state is None else (state,)
        if self.player == "min":
            value = d.generator_loss(real_out, fake_out, *extra)
        else:
            value = d.critic_loss(real_out, fake_out, *extra) + d.regularization(self.critic_apply, params.max, real,
                                                                                  fake, rest)
        return value if d.init_state is None else (value, (real_out, fake_out))


@dataclasses.dataclass(frozen=True)
class DistanceState:
    """The game-state hooks of a stateful distance: its initial state, updated from the critic outputs."""

    distance: Distance

    def init(self, params, key, args):
        return self.distance.init_state()

    def update(self, state, params, key, args, step, aux):
        real_out, fake_out = aux[1]  # the critic's loss aux at p_k
        return self.distance.update_state(state, real_out, fake_out)


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
      data: real samples: an array (the full batch every step), a pytree sampler
        (:func:`minimax.data.minibatches`) or a callable ``key -> batch``.
      latent: a fixed array of codes ẑ (empirical risk) or a sampler ``key -> z``
        (population risk), e.g. :func:`normal_latent`.
      regularizers: each ``r(critic_apply, w, real, fake, key) -> scalar``, added to the
        critic's loss after the distance's own (gradient penalty, R1, R2, ...).
      name: the game's name; default ``"gan_" + distance.name``.
      sample_init: ``key -> Players`` for the game record (e.g. a partial of :func:`init_players`).

    The game's losses take ``(params, key, args, state)``; one key per step is split into
    the data, latent and regularizer/objective keys, so both players see the same batch.
    The key may be None only when data and latents are fixed arrays and no regularizer is
    present. Non-finite data or latent arrays are rejected here.

    Examples:
        The non-saturating GAN on a ring of 8 Gaussians, fresh data and latents every step:

        >>> import jax, optax
        >>> from minimax import games, models, train, updates
        >>> from minimax.data import ring8
        >>> from minimax.losses import DISTANCES
        >>> G, D = models.MLPGenerator(data_shape=(2,), widths=(16,)), models.MLPCritic(widths=(16,))
        >>> latent = games.normal_latent(64, shape=(2,))
        >>> game = games.gan_game(G.apply, D.apply, DISTANCES["ns"], ring8().batches(64), latent)
        >>> params = games.init_players(G, D, jax.random.PRNGKey(0), latent)
        >>> type(game.field(params, jax.random.PRNGKey(1))).__name__  # F = (∇_θ L_θ, ∇_w L_w)
        'Players'
        >>> result = train.run(game, updates.simultaneous(optax.adam(1e-3)), params, jax.random.PRNGKey(2), steps=10)
        >>> result.trajectory["loss"].shape
        (2,)
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
    data_sampler, data_leaf = _split_source(data, "data")
    latent_sampler, latent_leaf = _split_source(latent, "latent")
    needs_key = (callable(data) or callable(latent)) or (critic_game and bool(distance.regularizers))
    loss = lambda player: GANLoss(generator_apply, critic_apply, distance, data_sampler, latent_sampler,
                                  needs_key, player)
    args = (data_leaf, latent_leaf)
    if not critic_game:
        return Game(loss=loss("min"), args=args, name=name or f"gan_{getattr(distance, '__name__', 'objective')}",
                    sample_init=sample_init)
    proj = distance.critic_projection
    stateful = distance.init_state is not None
    hooks = DistanceState(distance) if stateful else None
    return Game(loss=loss("min"), max_loss=loss("max"), args=args, has_aux=stateful,
                name=name or f"gan_{distance.name}", sample_init=sample_init,
                projection=None if proj is None else on_max_player(proj),
                init_state=hooks.init if stateful else None, update_state=hooks.update if stateful else None)


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
