"""Distances as records: how to build both players' losses from critic outputs.

A :class:`Distance` says what the critic (max player) and the generator (min player)
each minimize, given the critic's outputs on a batch of real samples and on a batch of
generated samples. The GAN game builder (:mod:`minimax.games.gan`) turns it into a
:class:`minimax.Game`. Critic regularizers (:mod:`minimax.losses.regularizers`) are added to
the critic's loss; a distance that is defined with one (WGAN-GP) carries it in
``Distance.regularizers``, whose sum :meth:`Distance.regularization` computes.

For a loss l, the zero-sum game L = −E l(f(x)) − E l(−f(G(z))) gives
critic_loss = E l(f(x)) + E l(−f(G(z))) = −L and generator_loss = L.

The registry :data:`DISTANCES` holds the distances that work with any critic returning one
real output per sample; the variants that need a special critic (feature maps,
autoencoders, a Lagrange multiplier) are built by the factories of
:mod:`minimax.losses.variants`.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Optional, Tuple

import jax
import jax.numpy as jnp

from minimax.losses.critic import hinge, least_squares, linear, logistic, non_saturating
from minimax.losses.fdivergences import FDIVERGENCES, FDivergence
from minimax.losses.regularizers import gradient_penalty, one_sided_gradient_penalty


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
      regularizers: critic regularizers ``reg(critic_apply, critic_params, real, fake, key)``
        (:mod:`minimax.losses.regularizers`) added to the critic's loss.
      init_state: for a distance with carried state (BEGAN's k_t, MAGAN's margin), a
        function ``() -> state``; both losses then take it as a third argument,
        ``loss(real_out, fake_out, state)``.
      update_state: ``update_state(state, real_out, fake_out) -> state``, applied after every
        training step to the critic's outputs at that step's point.
    """

    name: str
    critic_loss: Callable
    generator_loss: Callable
    critic_projection: Optional[Callable] = None
    zero_sum: bool = True
    regularizers: Tuple[Callable, ...] = ()
    init_state: Optional[Callable] = None
    update_state: Optional[Callable] = None

    def __post_init__(self):
        if (self.init_state is None) != (self.update_state is None):
            raise ValueError(f"Distance {self.name!r}: give both `init_state` and `update_state` or neither")

    def regularization(self, critic_apply, critic_params, real, fake, key=None):
        """Σ_r r(critic_apply, critic_params, real, fake, key_r), one key split per regularizer."""
        if not self.regularizers:
            return jnp.zeros(())
        keys = [None] * len(self.regularizers) if key is None else list(jax.random.split(key, len(self.regularizers)))
        return sum(r(critic_apply, critic_params, real, fake, k) for r, k in zip(self.regularizers, keys))

    def with_regularizers(self, *regularizers: Callable) -> "Distance":
        """The same distance with ``regularizers`` appended (e.g. ``partial(r1_penalty, weight=1.0)``)."""
        bad = [r for r in regularizers if not callable(r)]
        if bad:
            raise TypeError(f"with_regularizers: regularizers must be callable, got {bad!r}")
        return dataclasses.replace(self, regularizers=self.regularizers + tuple(regularizers))


def check_outputs(name: str, real_out, fake_out, ndim: int = 1):
    """Checks critic outputs: ``ndim``-D arrays, (batch,) or (batch, features) with equal features."""
    real_out, fake_out = jnp.asarray(real_out), jnp.asarray(fake_out)
    if real_out.ndim != ndim or fake_out.ndim != ndim or real_out.shape[1:] != fake_out.shape[1:]:
        want = "(batch,)" if ndim == 1 else "(batch, " + ", ".join(["k"] * (ndim - 1)) + ")"
        raise ValueError(f"{name}: critic outputs must have shape {want} on real and fake samples alike, "
                         f"got {real_out.shape} and {fake_out.shape}")
    return real_out, fake_out


def checked_loss(name: str, loss: Callable) -> Callable:
    """``loss(real_out, fake_out)`` with the shapes checked by :func:`check_outputs` first."""
    return lambda real, fake: loss(*check_outputs(name, real, fake))


def from_critic_loss(name: str, l: Callable, **kwargs) -> Distance:
    """The zero-sum distance of an element-wise loss l: L = −E l(f(x)) − E l(−f(G(z))).

    Examples:
        With the logistic loss this is the original (Jensen–Shannon) GAN. At P = Q the optimal
        critic outputs f ≡ 0 and the critic's loss is −V(G, D*) = log 4:

        >>> import jax.numpy as jnp
        >>> from minimax.losses import from_critic_loss, logistic
        >>> js = from_critic_loss("js", logistic)
        >>> outputs = jnp.zeros(4)  # critic outputs on 4 real and 4 generated samples
        >>> round(float(js.critic_loss(outputs, outputs)), 4), round(float(jnp.log(4.0)), 4)
        (1.3863, 1.3863)
        >>> float(js.generator_loss(outputs, outputs) + js.critic_loss(outputs, outputs))  # zero-sum
        0.0
    """
    critic = checked_loss(name, lambda real, fake: jnp.mean(l(real)) + jnp.mean(l(-fake)))
    return Distance(name, critic, lambda real, fake: -critic(real, fake), **kwargs)


def non_saturating_distance() -> Distance:
    """Critic: E l(f(x)) + E l(−f(G(z))), l = logistic; generator: E[−log σ(f(G(z)))] (general-sum).

    Reference: Goodfellow et al., "Generative adversarial nets", NeurIPS 2014.
    """
    critic = from_critic_loss("ns", logistic).critic_loss
    generator = checked_loss("ns", lambda real, fake: jnp.mean(non_saturating(fake)))
    return Distance("ns", critic, generator, zero_sum=False)


def lsgan_distance(a=0.0, b=1.0, c=1.0, name: str = "lsgan") -> Distance:
    """Least squares GAN with labels a (fake), b (real), c (generator's target):

        critic ½E(D(x) − b)² + ½E(D(G(z)) − a)²,   generator ½E(D(G(z)) − c)².

    With b − c = 1 and b − a = 2 (e.g. a = −1, b = 1, c = 0) the optimal critic is
    D* = (b·p + a·q)/(p + q) and the generator's loss, with the θ-free term ½E_p(D*(x) − c)²
    added, is ½·∫(p − q)²/(p + q): Mao et al.'s "χ²_Pearson(p_d + p_g ‖ 2p_g)".

    Reference: Mao et al., "Least squares generative adversarial networks", ICCV 2017.
    """
    critic = checked_loss(name, lambda real, fake: jnp.mean(least_squares(real, b)) + jnp.mean(least_squares(fake, a)))
    generator = checked_loss(name, lambda real, fake: jnp.mean(least_squares(fake, c)))
    return Distance(name, critic, generator, zero_sum=False)


def hinge_distance() -> Distance:
    """Critic: E max(0, 1 − D(x)) + E max(0, 1 + D(G(z))); generator: −E D(G(z)) (general-sum).

    References: Lim & Ye, "Geometric GAN", 2017; Miyato et al., ICLR 2018.
    """
    critic = from_critic_loss("hinge", hinge).critic_loss
    generator = checked_loss("hinge", lambda real, fake: jnp.mean(linear(fake)))
    return Distance("hinge", critic, generator, zero_sum=False)


def fgan_distance(fdiv: FDivergence) -> Distance:
    """The f-GAN game min_θ max_w E_data[g_f(v_w(x))] − E_model[f*(g_f(v_w(G_θ(z))))].

    The inner value is a lower bound on D_f(data‖model), tight at g_f(v) = f′(p_data/p_model).

    Reference: Nowozin, Cseke, Tomioka, "f-GAN", NeurIPS 2016.
    """
    if not isinstance(fdiv, FDivergence):
        raise TypeError(f"fgan_distance: expected an FDivergence, got {type(fdiv).__name__}")
    name = f"fgan_{fdiv.name}"
    critic = checked_loss(name, lambda real, fake: -fdiv.variational_bound(real, fake))
    return Distance(name, critic, lambda real, fake: -critic(real, fake))


def _registry() -> dict:
    from minimax.updates.projection import box
    distances = [
        from_critic_loss("js", logistic),
        non_saturating_distance(),
        from_critic_loss("wasserstein", linear, critic_projection=box(-0.01, 0.01)),
        from_critic_loss("wgan_gp", linear, regularizers=(gradient_penalty,)),
        from_critic_loss("wgan_gp_one_sided", linear, regularizers=(one_sided_gradient_penalty,)),
        from_critic_loss("zero_infinity", linear),
        lsgan_distance(),
        lsgan_distance(-1.0, 1.0, 0.0, name="lsgan_chi2"),
        hinge_distance(),
    ] + [fgan_distance(d) for d in FDIVERGENCES.values()]
    return {d.name: d for d in distances}


#: name -> Distance.
DISTANCES = _registry()


def get(name: str) -> Distance:
    if name not in DISTANCES:
        raise ValueError(f"unknown distance {name!r}; expected one of {sorted(DISTANCES)}")
    return DISTANCES[name]
