"""Moment-matching, IPM and energy-based GAN objectives that need a special critic.

Each is a pure function of critic outputs plus, where it fits the real/fake shape, a
:class:`~minimax.losses.distances.Distance` factory (they are not in ``DISTANCES``, whose
members work with any critic returning one real output per sample):

* McGAN — the critic is a feature map Φ_w: X → ℝ^m, outputs (batch, m), weights clipped.
* Fisher GAN — the max player's params are ``FisherCritic(params, lam)``: the critic f and
  the Lagrange multiplier λ of the constraint Ω(f) = 1; :func:`fisher_critic` makes the
  critic return (f(x), λ) per sample, so the Distance sees λ.
* Cramér GAN — the critic is a feature map h, outputs (batch, k), with two independent
  generated batches stacked in the fake outputs.
* Relaxed Wasserstein — the Wasserstein loss with asymmetric weight clipping.
* EBGAN, BEGAN, MAGAN — the critic is an autoencoder whose output is the per-sample
  reconstruction energy D(x) >= 0 (:func:`reconstruction_energy`). BEGAN's k_t and MAGAN's
  margin are carried game state (``Distance.init_state``/``update_state``), updated after every
  step by :func:`began_update` and, once per epoch, :func:`magan_margin_update`.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp

from minimax.losses.critic import linear
from minimax.losses.distances import Distance, check_outputs, checked_loss, from_critic_loss
from minimax.losses.regularizers import safe_norm


# --- McGAN ---------------------------------------------------------------------------------

def mcgan_mean(phi_real, phi_fake, *, q=2):
    """IPM_{μ,q} = ‖E_P Φ(x) − E_Q Φ(x)‖_q = max_{‖v‖_{q*} <= 1} ⟨v, E_P Φ − E_Q Φ⟩, q ∈ {1, 2}.

    Reference: Mroueh, Sercu, Goel, "McGan: mean and covariance feature matching GAN", ICML 2017.
    """
    phi_real, phi_fake = check_outputs("mcgan_mean", phi_real, phi_fake, ndim=2)
    delta = jnp.mean(phi_real, axis=0) - jnp.mean(phi_fake, axis=0)
    if q == 1:
        return jnp.sum(jnp.abs(delta))
    if q == 2:
        return safe_norm(delta)
    raise ValueError(f"mcgan_mean: q must be 1 or 2, got {q!r}")


def mcgan_covariance(phi_real, phi_fake, *, k=None):
    """IPM_Σ = max_{U,V ∈ ℝ^{m×k}, UᵀU = VᵀV = I} tr(Uᵀ(Σ_P − Σ_Q)V) = Σ_{i<=k} σ_i(Σ_P − Σ_Q),

    Σ_P = E_P[Φ(x)Φ(x)ᵀ] (uncentered), σ_i the singular values in decreasing order (the Ky Fan
    k-norm; k = None: all m, the nuclear norm; k = 0: zero).

    Reference: Mroueh, Sercu, Goel, ICML 2017.
    """
    phi_real, phi_fake = check_outputs("mcgan_covariance", phi_real, phi_fake, ndim=2)
    m = phi_real.shape[1]
    k = m if k is None else k
    if not 0 <= k <= m:
        raise ValueError(f"mcgan_covariance: need 0 <= k <= {m} (the feature dimension), got {k!r}")
    second = lambda phi: phi.T @ phi / phi.shape[0]
    return jnp.sum(jnp.linalg.svd(second(phi_real) - second(phi_fake), compute_uv=False)[:k])


def mcgan_distance(*, q=2, k=None, clip=0.01) -> Distance:
    """McGAN: d = IPM_{μ,q} + IPM_Σ (k singular values; k = 0: mean matching only), critic
    feature map Φ_w with weights clipped to [−clip, clip]; zero-sum.

    Reference: Mroueh, Sercu, Goel, ICML 2017.
    """
    from minimax.updates.projection import box

    d = lambda real, fake: mcgan_mean(real, fake, q=q) + mcgan_covariance(real, fake, k=k)
    return Distance("mcgan", lambda real, fake: -d(real, fake), d, critic_projection=box(-clip, clip))


# --- Fisher GAN ----------------------------------------------------------------------------

class FisherCritic(NamedTuple):
    """The max player's params in a Fisher GAN: the critic's ``params`` and the multiplier ``lam``."""

    params: Any
    lam: Any


def fisher_critic(critic_apply: Callable) -> Callable:
    """``apply(FisherCritic(params, λ), x) -> (batch, 2)``: column 0 is f(x), column 1 is λ."""
    def apply(critic: FisherCritic, x):
        out = critic_apply(critic.params, x)
        return jnp.stack([out, jnp.broadcast_to(critic.lam, jnp.shape(out))], axis=-1)
    return apply


def fisher_lagrangian(real, fake, lam, rho):
    """L_F = Ê + λ(1 − Ω̂) − (ρ/2)(Ω̂ − 1)², Ê = E_P f − E_Q f, Ω̂ = ½E_P f² + ½E_Q f².

    max over the critic, min over λ; at the saddle Ω̂ = 1 and Ê is the Fisher IPM
    sup_f Ê/√Ω̂ = √(2 Σ(p − q)²/(p + q)) over unconstrained critics.

    Reference: Mroueh & Sercu, "Fisher GAN", NeurIPS 2017.
    """
    e = jnp.mean(real) - jnp.mean(fake)
    omega = 0.5 * jnp.mean(jnp.square(real)) + 0.5 * jnp.mean(jnp.square(fake))
    return e + lam * (1.0 - omega) - 0.5 * rho * jnp.square(omega - 1.0)


def fisher_distance(rho=1e-6) -> Distance:
    """Fisher GAN on outputs of :func:`fisher_critic` (columns f(x), λ).

    The critic's loss is −L_F(f, sg(λ)) + λ·sg(1 − Ω̂) (sg: stop-gradient): its gradient in f is
    −∂L_F/∂f (ascent on L_F) and in λ is ∂L_F/∂λ = 1 − Ω̂, so one descent step on the max
    player moves λ by descent on L_F (ascent on the critic's loss), as in the paper; its
    value is −Ê + (ρ/2)(Ω̂ − 1)². The paper steps λ with rate ρ; give λ its own rate with
    ``optax.multi_transform`` if the critic's differs. The generator minimizes Ê.

    Reference: Mroueh & Sercu, "Fisher GAN", NeurIPS 2017, Algorithm 1.
    """
    def split(real, fake):
        real, fake = check_outputs("fisher", real, fake, ndim=2)
        if real.shape[1] != 2:
            raise ValueError(f"fisher: expected outputs (batch, 2) = (f(x), λ) from fisher_critic, got {real.shape}")
        return real[:, 0], fake[:, 0], jnp.mean(real[:, 1])

    def critic_loss(real, fake):
        f_real, f_fake, lam = split(real, fake)
        omega = 0.5 * jnp.mean(jnp.square(f_real)) + 0.5 * jnp.mean(jnp.square(f_fake))
        stop = jax.lax.stop_gradient
        return -fisher_lagrangian(f_real, f_fake, stop(lam), rho) + lam * stop(1.0 - omega)

    def generator_loss(real, fake):
        f_real, f_fake, _ = split(real, fake)
        return jnp.mean(f_real) - jnp.mean(f_fake)

    return Distance("fisher", critic_loss, generator_loss, zero_sum=False)


# --- Cramér GAN ----------------------------------------------------------------------------

def cramer_critic(h_x, h_ref):
    """f(x) = ‖h(x) − h(x′_g)‖₂ − ‖h(x)‖₂ per sample, h_ref = h(x′_g) of an independent generated batch.

    Reference: Bellemare et al., "The Cramer distance as a solution to biased Wasserstein
    gradients", 2017, Algorithm 1.
    """
    h_x, h_ref = check_outputs("cramer_critic", h_x, h_ref, ndim=2)
    return safe_norm(h_x - h_ref, axis=-1) - safe_norm(h_x, axis=-1)


def cramer_generator_loss(h_real, h_fake, h_fake2):
    """E[‖h(x_r) − h(x_g)‖ + ‖h(x_r) − h(x′_g)‖ − ‖h(x_g) − h(x′_g)‖]: the energy distance
    2E‖X − Y‖ − E‖Y − Y′‖ − E‖X − X′‖ of the features, less its θ-free term E‖X − X′‖.

    Reference: Bellemare et al., 2017, Algorithm 1.
    """
    for other in (h_fake, h_fake2):
        check_outputs("cramer_generator_loss", h_real, other, ndim=2)
    d = lambda a, b: safe_norm(a - b, axis=-1)
    return jnp.mean(d(h_real, h_fake) + d(h_real, h_fake2) - d(h_fake, h_fake2))


def cramer_critic_loss(h_real, h_fake, h_fake2):
    """−(E f(x_r) − E f(x_g)), f = :func:`cramer_critic` against x′_g (add a gradient penalty on f)."""
    return -(jnp.mean(cramer_critic(h_real, h_fake2)) - jnp.mean(cramer_critic(h_fake, h_fake2)))


def cramer_distance() -> Distance:
    """Cramér GAN on feature outputs: ``fake_out`` stacks two independent generated batches
    (2n, k), x_g then x′_g; the first n rows of ``real_out`` are used.

    Reference: Bellemare et al., 2017, Algorithm 1.
    """
    def split(real, fake):
        real, fake = check_outputs("cramer", real, fake, ndim=2)
        n = fake.shape[0] // 2
        if fake.shape[0] % 2 or real.shape[0] < n:
            raise ValueError(f"cramer: fake outputs must stack two generated batches of n rows each and real "
                             f"outputs have >= n rows, got {real.shape} and {fake.shape}")
        return real[:n], fake[:n], fake[n:]

    return Distance("cramer", lambda real, fake: cramer_critic_loss(*split(real, fake)),
                    lambda real, fake: cramer_generator_loss(*split(real, fake)), zero_sum=False)


# --- Relaxed Wasserstein -------------------------------------------------------------------

def relaxed_wasserstein_distance(lower, upper) -> Distance:
    """The Wasserstein game with asymmetric weight clipping w ∈ [lower, upper] (lower ≠ −upper
    in general). Only this clamping form is implemented, not the paper's Bregman-cost terms.

    Reference: Guo, Hong, Lin, Yang, "Relaxed Wasserstein with applications to GANs", 2017.
    """
    from minimax.updates.projection import box

    return from_critic_loss("rwgan", linear, critic_projection=box(lower, upper))


# --- Energy-based: EBGAN, BEGAN, MAGAN -----------------------------------------------------

def reconstruction_energy(x, reconstruction, *, power=2):
    """D(x) = mean over features of |x − Dec(Enc(x))|^power, one energy per sample (batch,).

    power = 2: EBGAN's mean squared error; power = 1: BEGAN's L1 loss L(v) = |v − D(v)|.
    """
    x, reconstruction = jnp.asarray(x), jnp.asarray(reconstruction)
    if x.shape != reconstruction.shape or x.ndim < 1:
        raise ValueError(f"reconstruction_energy: x and its reconstruction must have the same batched shape, "
                         f"got {x.shape} and {reconstruction.shape}")
    err = jnp.abs(x - reconstruction)
    return jnp.mean(err**power, axis=tuple(range(1, x.ndim)))


def ebgan_distance(margin) -> Distance:
    """EBGAN: critic E D(x) + E max(0, m − D(G(z))), generator E D(G(z)); D an energy >= 0.

    For a free critic (one energy D >= 0 per atom), min_D of the critic loss is m·(1 − TV(P, Q)).
    MAGAN is this game with ``margin`` adapted by :func:`magan_margin_update` (:func:`magan_distance`).

    Reference: Zhao, Mathieu, LeCun, "Energy-based generative adversarial network", ICLR 2017.
    """
    critic = lambda real, fake: jnp.mean(real) + jnp.mean(jax.nn.relu(margin - fake))
    generator = lambda real, fake: jnp.mean(fake)
    return Distance("ebgan", checked_loss("ebgan", critic), checked_loss("ebgan", generator), zero_sum=False)


def pulling_away(features):
    """f_PT(S) = 1/(N(N−1)) Σ_{i≠j} (S_iᵀS_j / (‖S_i‖‖S_j‖))²: EBGAN's repelling regularizer on
    the encoder features S of a generated batch (N >= 2), added to the generator's loss.

    Reference: Zhao, Mathieu, LeCun, ICLR 2017 (EBGAN-PT).
    """
    s = jnp.asarray(features)
    if s.ndim != 2 or s.shape[0] < 2:
        raise ValueError(f"pulling_away: features must have shape (batch >= 2, k), got {s.shape}")
    unit = s / jnp.maximum(safe_norm(s, axis=-1), jnp.finfo(s.dtype).tiny)[:, None]
    cos2 = jnp.square(unit @ unit.T)
    n = s.shape[0]
    return (jnp.sum(cos2) - jnp.sum(jnp.diag(cos2))) / (n * (n - 1))


def began_distance(*, gamma=0.5, lambda_k=1e-3, k0=0.0) -> Distance:
    """BEGAN: critic L_D = E L(x) − k_t·E L(G(z)), generator L_G = E L(G(z)), with the carried
    k_t ∈ [0, 1] (starting at ``k0``) updated after every step by :func:`began_update`.

    The losses take k_t as their third argument; in a GAN game the run carries it.

    Reference: Berthelot, Schumm, Metz, "BEGAN: boundary equilibrium generative adversarial
    networks", 2017.
    """
    critic = lambda real, fake, k: jnp.mean(real) - k * jnp.mean(fake)
    generator = lambda real, fake, k: jnp.mean(fake)
    checked = lambda loss: lambda real, fake, k: loss(*check_outputs("began", real, fake), k)
    return Distance("began", checked(critic), checked(generator), zero_sum=False,
                    init_state=lambda: jnp.asarray(k0, jnp.float32),
                    update_state=lambda k, real, fake: began_update(k, real, fake, gamma=gamma, lambda_k=lambda_k))


def began_update(k, real_energy, fake_energy, *, gamma=0.5, lambda_k=1e-3):
    """k_{t+1} = clip(k_t + λ_k(γ·E L(x) − E L(G(z))), 0, 1), the BEGAN equilibrium controller.

    Reference: Berthelot, Schumm, Metz, 2017.
    """
    real_energy, fake_energy = check_outputs("began_update", real_energy, fake_energy)
    return jnp.clip(k + lambda_k * (gamma * jnp.mean(real_energy) - jnp.mean(fake_energy)), 0.0, 1.0)


def began_convergence(real_energy, fake_energy, *, gamma=0.5):
    """M_global = E L(x) + |γ·E L(x) − E L(G(z))|, BEGAN's convergence measure.

    Reference: Berthelot, Schumm, Metz, 2017.
    """
    real_energy, fake_energy = check_outputs("began_convergence", real_energy, fake_energy)
    real = jnp.mean(real_energy)
    return real + jnp.abs(gamma * real - jnp.mean(fake_energy))


class MaganState(NamedTuple):
    margin: jax.Array     # m, the current margin
    real_sum: jax.Array   # Σ E L(x) over this epoch's steps
    fake_sum: jax.Array   # Σ E L(G(z)) over this epoch's steps
    count: jax.Array      # steps of this epoch so far


def magan_distance(margin, *, epoch_steps: int) -> Distance:
    """MAGAN: EBGAN's game (:func:`ebgan_distance`) whose margin m is adapted at the end of
    every epoch of ``epoch_steps`` steps by :func:`magan_margin_update` on the epoch's mean
    energies; m starts at ``margin`` (the paper: the mean energy of the real data under the
    autoencoder pretrained on it). The state (:class:`MaganState`) is carried by the run.

    Reference: Wang, Cully, Chang, Demiris, "MAGAN: margin adaptation for generative
    adversarial networks", 2017.
    """
    if not isinstance(epoch_steps, int) or epoch_steps < 1:
        raise ValueError(f"magan_distance: `epoch_steps` must be a positive integer, got {epoch_steps!r}")
    critic = lambda real, fake, st: jnp.mean(real) + jnp.mean(jax.nn.relu(st.margin - fake))
    generator = lambda real, fake, st: jnp.mean(fake)
    checked = lambda loss: lambda real, fake, st: loss(*check_outputs("magan", real, fake), st)

    def update(st, real, fake):
        real_sum, fake_sum, count = st.real_sum + jnp.mean(real), st.fake_sum + jnp.mean(fake), st.count + 1
        end = count == epoch_steps
        margin = jnp.where(end, magan_margin_update(st.margin, real_sum[None] / count, fake_sum[None] / count),
                           st.margin)
        zero = lambda x: jnp.where(end, jnp.zeros_like(x), x)
        return MaganState(margin, zero(real_sum), zero(fake_sum), jnp.where(end, 0, count))

    def init():
        return MaganState(jnp.asarray(margin, jnp.float32), jnp.zeros([]), jnp.zeros([]), jnp.zeros([], jnp.int32))

    return Distance("magan", checked(critic), checked(generator), zero_sum=False, init_state=init, update_state=update)


def magan_margin_update(margin, real_energy, fake_energy):
    """MAGAN's margin at the end of an epoch: m ← E_real if E_real < m and E_real < E_fake, else m.

    ``real_energy`` and ``fake_energy`` are the epoch's energies (equal counts; the paper compares
    sums S_real < S_fake). Start with m = mean energy of the real data under the autoencoder
    pretrained on it. The margin never increases.

    Reference: Wang, Cully, Chang, Demiris, "MAGAN: margin adaptation for generative
    adversarial networks", 2017.
    """
    real_energy, fake_energy = check_outputs("magan_margin_update", real_energy, fake_energy)
    real, fake = jnp.mean(real_energy), jnp.mean(fake_energy)
    return jnp.where((real < margin) & (real < fake), real, margin)

