"""The zero-infinity game of a last-layer generator against a paired linear critic.

Setting (Lee & Kim 2025): n data points, n fixed latent codes ẑ_1..ẑ_n, fixed features
φ: R^k → R^N and the generator G_A(z) = A φ(z), A ∈ R^{d×N}: only the last layer is trained.
Write Φ = [φ(ẑ_1) … φ(ẑ_n)] ∈ R^{N×n} and X = [x_σ(1) … x_σ(n)] ∈ R^{d×n}, whose column j
is the data point coupled to the code ẑ_j (σ a permutation, e.g. an optimal assignment,
:func:`minimax.ot.assignment`). The critic acts on (code, sample) pairs with one free vector
per code, f_B(ẑ_j, x) = ⟨B_j, x⟩, B ∈ R^{d×n}, and compares the coupled data pairs
(ẑ_j, x_σ(j)) with the generated pairs (ẑ_j, G_A(ẑ_j)):

    L(A, B) = E_data f_B − E_gen f_B = (1/n) Σ_j ⟨B_j, x_σ(j) − A φ(ẑ_j)⟩ = ⟨B, X − AΦ⟩ / n,

Frobenius inner product, scaled by 1/n so that L is a difference of expectations. Over this
critic class sup_B L(A, B) = 0 if AΦ = X and +∞ otherwise (take B = t(X − AΦ), t → ∞): the
zero-infinity distance D_ZI of the coupled data and generated pairs, and min_A max_B L is
its minimax form (the WGAN objective without a Lipschitz constraint).

Field and spectrum: F(A, B) = (−BΦᵀ/n, (AΦ − X)/n). ∂F is skew, with eigenvalues ±iσ_k(Φ)/n
(each d times, once per pixel row) and 0 on {(A, B): AΦ = 0, BΦᵀ = 0}. With N >= n and Φ of
full column rank, the equilibria are {(A, 0): AΦ = X}, an affine set of dimension d(N − n).

Implicit bias: every step of GDA, EG, OGDA, alternating GDA (with SGD and Λ_τ inside) moves A
by a combination of values of F_A = −BΦᵀ/n, so A stays in {CΦᵀ}, the matrices whose rows lie
in the column span of Φ. Started from A = 0, a run that converges ends at the one
equilibrium of that span, A = X(ΦᵀΦ)⁻¹Φᵀ = XΦ⁺, the minimum-Frobenius-norm interpolant
(:func:`min_norm_interpolant`). Gradient descent on the W2 regression loss (1/n)‖AΦ − X‖²
(:func:`w2_last_layer`) moves A by (AΦ − X)Φᵀ and has the same implicit bias.

Arrays are rows, as everywhere in minimax: ``targets`` (n, d) holds x_σ(j) in row j and
``features`` (n, N) holds φ(ẑ_j) in row j (Xᵀ and Φᵀ); A is (d, N) and B is (d, n). The
features are computed once from the fixed codes (they never change), so the game's leaves
are the two arrays and the known equilibrium.

References: Lee & Kim, "Zero-Infinity GAN: Stable dynamics and implicit bias of
extragradient", NeurIPS OPT Workshop 2025; Rahimi & Recht, "Random features for large-scale
kernel machines", NeurIPS 2007 (:func:`random_features`).
"""
from __future__ import annotations

import dataclasses
from typing import Optional

import jax
import jax.numpy as jnp

from minimax import validation
from minimax.game import Game, Players


def random_features(key, latents, count: int) -> jax.Array:
    """Random Fourier features φ(z) = √(2/N) cos(Wz + b), W ~ N(0, I), b ~ U[0, 2π), N = ``count``.

    ``latents`` (n, k) -> (n, N). E φ(z)·φ(z') = exp(−‖z − z'‖²/2) (Rahimi & Recht 2007), so
    for well separated codes (k = 32 standard normal codes: ‖z − z'‖² ≈ 64) the Gram matrix
    ΦᵀΦ is close to I and Φ is well conditioned for N >> n (σ_k(Φ) ≈ 1 ± √(n/N)).
    """
    count = validation.positive_int("random_features", "count", count)
    latents = validation.real_array("random_features", "latents", latents)
    if latents.ndim != 2:
        raise ValueError(f"random_features: `latents` must be (n, k), got shape {tuple(latents.shape)}")
    k_w, k_b = jax.random.split(key)
    w = jax.random.normal(k_w, (latents.shape[1], count), latents.dtype)
    b = jax.random.uniform(k_b, (count,), latents.dtype, maxval=2 * jnp.pi)
    return jnp.sqrt(2.0 / count) * jnp.cos(latents @ w + b)


def last_layer_generator(weights, features) -> jax.Array:
    """G_A(ẑ_j) = A φ(ẑ_j) for every row of ``features`` (n, N): the samples (n, d), i.e. (AΦ)ᵀ."""
    return features @ weights.T


def min_norm_interpolant(targets, features) -> jax.Array:
    """A† = XΦ⁺ (d, N), the interpolant AΦ = X of least Frobenius norm (Φ of full column rank)."""
    return targets.T @ jnp.linalg.pinv(features.T)


def _paired_critic_loss(p, key, args, state):
    targets, features = args
    return jnp.sum(p.max * (targets - last_layer_generator(p.min, features)).T) / targets.shape[0]


def _regression_loss(p, key, args, state):
    targets, features = args
    return jnp.sum((targets - last_layer_generator(p.min, features)) ** 2) / targets.shape[0]


@dataclasses.dataclass(frozen=True)
class ZeroInit:
    """Both players at zero (the start of the implicit-bias theory); ``shape_max=None`` gives the empty
    max player ``()`` of a single-player game."""

    shape_min: tuple
    shape_max: Optional[tuple] = None

    def __call__(self, key):
        return Players(jnp.zeros(self.shape_min), () if self.shape_max is None else jnp.zeros(self.shape_max))


def _check(fn: str, targets, features):
    targets = validation.real_array(fn, "targets", targets)
    features = validation.real_array(fn, "features", features)
    if targets.ndim != 2 or features.ndim != 2 or targets.shape[0] != features.shape[0]:
        raise ValueError(f"{fn}: `targets` (n, d) and `features` (n, N) must be 2-D with one row per code, got "
                         f"shapes {tuple(targets.shape)} and {tuple(features.shape)}")
    n, count = features.shape
    if count < n:
        raise ValueError(f"{fn}: `features` needs at least as many features as codes (N >= n) so that the "
                         f"interpolating set {{A : AΦ = X}} is nonempty, got N = {count} < n = {n}")
    validation.finite(fn, "targets", targets)
    validation.finite(fn, "features", features)
    return targets, features


def zero_infinity_last_layer(targets, features) -> Game:
    """The game min_A max_B ⟨B, X − AΦ⟩/n of the module doc, started at A = 0, B = 0.

    Args:
      targets: (n, d), row j the data point x_σ(j) coupled to code ẑ_j.
      features: (n, N), row j the fixed features φ(ẑ_j); N >= n.

    Returns:
      A zero-sum :class:`~minimax.Game` with params ``Players(A (d, N), B (d, n))``, ``args =
      (targets, features)`` and ``equilibrium = Players(XΦ⁺, 0)``: the equilibrium that a
      convergent rule reaches from A = 0, one point of the affine set {(A, 0): AΦ = X}.
    """
    targets, features = _check("zero_infinity_last_layer", targets, features)
    (n, d), count = targets.shape, features.shape[1]
    return Game(loss=_paired_critic_loss, args=(targets, features), name="zero_infinity_last_layer",
                equilibrium=Players(min_norm_interpolant(targets, features), jnp.zeros((d, n), targets.dtype)),
                sample_init=ZeroInit((d, count), (d, n)))


def w2_last_layer(targets, features) -> Game:
    """The W2 regression loss (1/n)‖AΦ − X‖²_F = (1/n) Σ_j ‖x_σ(j) − Aφ(ẑ_j)‖² for the given coupling σ.

    For any coupling it bounds W₂²(ν̂, (G_A)#ξ̂) from above (Chae, Kim & Kim, ICML HiLD workshop 2025;
    :func:`minimax.ot.w2_game` is the general form, which computes its coupling itself at θ₀). Here σ
    is given, as in :func:`zero_infinity_last_layer`: at A = 0 every G_A(ẑ_j) = 0, every permutation is
    optimal, and which one a solver returns is decided by its rounding (it can differ between a plain and
    a vmapped call), so both objectives should be handed the same one. A single-player game (max
    player ``()``), started at A = 0, with the same ``args`` and ``equilibrium = Players(XΦ⁺, ())``:
    gradient descent from A = 0 moves A by (AΦ − X)Φᵀ and, for η < n/σ_max(Φ)², converges to XΦ⁺.
    """
    targets, features = _check("w2_last_layer", targets, features)
    d, count = targets.shape[1], features.shape[1]
    return Game(loss=_regression_loss, args=(targets, features), name="w2_last_layer",
                equilibrium=Players(min_norm_interpolant(targets, features), ()), sample_init=ZeroInit((d, count)))


def range_features(features) -> jax.Array:
    """The features (n, n) of the game restricted to the span where its iterates evolve, ΦᵀU = VS.

    With Φ = USVᵀ (U: N × n), write A = ÃUᵀ + A_⊥ (A_⊥Φ = 0). F does not depend on A_⊥, and
    the rules of the module doc never change it, so a run is the game with features UᵀΦ = SVᵀ
    in Ã, plus A_⊥ fixed. The pixel rows are d uncoupled copies of one row game (∂F = I_d ⊗ J).
    So the game with ``targets`` (n, 1) and these features has the update map whose spectrum is
    the spectrum of the full map on the directions that move (the full map adds the eigenvalue
    1 on the interpolating set's own directions, d(N − n) of them): a 2n-dimensional game
    whose dense spectra (:func:`minimax.spectral_radius`) are exact.
    """
    _, s, vt = jnp.linalg.svd(jnp.asarray(features).T, full_matrices=False)
    return vt.T * s
