"""Matrix-free spectra (Arnoldi on JVPs) against the dense Jacobians, closed forms, and independent power
iteration; the step-size suggestion and the stiffness metric."""
import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.flatten_util import ravel_pytree

from minimax import Game, Players, diagnostics, field_eigenvalues, games, spectral_radius, train, updates


def _mlp(params, x):
    for w, b in params[:-1]:
        x = jnp.tanh(x @ w + b)
    w, b = params[-1]
    return x @ w + b


def _init(rng, sizes):
    normal = lambda *shape: jnp.asarray(rng.standard_normal(shape), jnp.float32)
    return [(normal(a, b) / np.sqrt(a), 0.1 * normal(b)) for a, b in zip(sizes[:-1], sizes[1:])]


@dataclasses.dataclass(frozen=True)
class MLPLoss:
    """A small GAN: generator and critic MLPs on fixed data x and codes z (args); the generator's loss is
    non-saturating (general-sum) or the minimax one (zero-sum with ``critic=None``)."""

    critic: bool

    def __call__(self, p, key, args, state):
        x, z = args
        fake = _mlp(p.min, z)
        if self.critic:  # the critic's loss
            return jnp.mean(jax.nn.softplus(-_mlp(p.max, x))) + jnp.mean(jax.nn.softplus(_mlp(p.max, fake)))
        return jnp.mean(jax.nn.softplus(-_mlp(p.max, fake)))


def mlp_game(general_sum: bool, hidden=(6,), latent=2, batch=16, seed=0):
    rng = np.random.default_rng(seed)  # NumPy draws: no eager JAX programs to compile
    args = (jnp.asarray(rng.standard_normal((batch, 2)) + 1.0, jnp.float32),
            jnp.asarray(rng.standard_normal((batch, latent)), jnp.float32))
    params = Players(_init(rng, [latent, *hidden, 2]), _init(rng, [2, *hidden, 1]))
    if general_sum:
        return Game(loss=MLPLoss(False), max_loss=MLPLoss(True), args=args), params
    zero_sum = lambda p, key, args, state: -MLPLoss(True)(p, key, args, state)
    return Game(loss=zero_sum, args=args), params


def assert_same_eigenvalues(got, dense, which, rtol=1e-4):
    """``got`` are the top len(got) of ``dense`` in the order ``which`` (each within rtol·|λ| of its match)."""
    dense = np.asarray(dense)
    score = {"LM": -np.abs(dense), "LR": -dense.real, "SR": dense.real}[which]
    top = dense[np.argsort(score, kind="stable")][:len(got)]
    for lam in np.asarray(got):
        assert np.min(np.abs(top - lam)) <= rtol * max(abs(lam), 1e-3), (lam, top)


@pytest.mark.parametrize("general_sum,cases", [
    (False, [(57, 8, "LM")]),                 # the whole Krylov space: exact
    (True, [(30, 2, "LM"), (40, 2, "SR")]),   # about half of it: the extreme eigenvalues have converged
])
def test_field_eigenvalues_equal_the_dense_ones_on_small_mlp_games(general_sum, cases):
    game, params = mlp_game(general_sum)
    f = game.field_fn()
    assert ravel_pytree(params)[0].size == 57
    dense = jax.jit(lambda p: field_eigenvalues(f, p))(params)
    top = jax.jit(lambda p: [diagnostics.top_field_eigenvalues(f, p, k=k, which=w, krylov_dim=m) for m, k, w in cases])
    for (_, _, which), got in zip(cases, top(params)):
        assert_same_eigenvalues(got, dense, which)


def test_update_map_eigenvalues_equal_the_dense_joint_jacobian():
    """The map of (params, float optimizer state): OGDA's state holds F(p_{k−1}), so its map is 2n-dimensional."""
    game, params = mlp_game(True)
    f = game.field_fn()
    rule = updates.optimistic(optax.sgd(0.2))
    jac = jax.jit(lambda p: diagnostics.update_map_jacobian(rule, f, p))(params)
    got = jax.jit(lambda p: diagnostics.top_update_eigenvalues(rule, f, p, k=3, krylov_dim=jac.shape[0]))(params)
    assert_same_eigenvalues(got, np.linalg.eigvals(np.asarray(jac)), "LM")


def test_repeated_eigenvalues_and_invariant_krylov_spaces():
    """bilinear(I₅₀): ∂F = [[0, I], [−I, 0]] has only ±i, so the Krylov space is invariant after two steps;
    Arnoldi continues from fresh orthogonal vectors and every Ritz value is still ±i."""
    g = games.bilinear(jnp.eye(50))
    got = jax.jit(lambda p: diagnostics.top_field_eigenvalues(g.field_fn(), p, k=10, krylov_dim=10))(g.equilibrium)
    np.testing.assert_allclose(np.abs(got), 1.0, rtol=1e-5)
    np.testing.assert_allclose(np.abs(got.real), 0.0, atol=1e-5)


def _diagonal_bilinear(n):
    """f = Σ σ_i x_i y_i with σ = (2, then n − 1 values in [0.1, 1]): ∂F has eigenvalues ±iσ_i, |λ|max = 2."""
    sigma = jnp.concatenate([jnp.array([2.0]), jnp.linspace(0.1, 1.0, n - 1)])
    return Game(loss=lambda p, key, s, state: jnp.sum(s * p.min * p.max), args=sigma), Players(jnp.ones(n), jnp.ones(n))


def test_top_eigenvalue_of_a_game_with_a_hundred_thousand_parameters():
    """2·5·10⁴ parameters: the top pair ±2i from 20 Krylov vectors (one compiled call, about a second on CPU)."""
    game, params = _diagonal_bilinear(50_000)
    lam = jax.jit(lambda g, p: diagnostics.top_field_eigenvalues(g.field_fn(), p, k=2, krylov_dim=20))(game, params)
    np.testing.assert_allclose(lam, [2j, -2j], rtol=1e-4, atol=1e-4)


@pytest.mark.slow
def test_top_eigenvalue_of_a_wide_mlp_game_matches_power_iteration():
    """135k parameters (two 256-wide MLPs): Arnoldi's top |λ| against power iteration on JVPs (an independent
    method; it converges here because the top eigenvalue is real and well separated)."""
    game, params = mlp_game(True, hidden=(256, 256), latent=8, batch=256)
    f = game.field_fn()
    flat, unravel = ravel_pytree(params)
    assert flat.size > 10**5
    lam = jax.jit(lambda p: diagnostics.top_field_eigenvalues(f, p, k=1, krylov_dim=20))(params)[0]
    _, jvp = jax.linearize(lambda x: ravel_pytree(f(unravel(x)))[0], flat)

    def power(v, _):
        w = jvp(v)
        return w / jnp.linalg.norm(w), None

    v = jax.jit(lambda v: jax.lax.scan(power, v, None, length=60)[0])(jnp.ones_like(flat) / np.sqrt(flat.size))
    np.testing.assert_allclose(abs(lam), float(jnp.linalg.norm(jvp(v))), rtol=1e-4)


def test_suggest_step_size_is_c_over_the_largest_modulus_and_makes_eg_contract():
    """On f = xᵀ diag(σ) y, |λ|max = σ_max = 2: η = 0.5/2. EG's factor √(1 − h² + h⁴) on the mode σ (h = ησ)
    is < 1 for 0 < h < 1, so every mode contracts at h <= 0.5; at 2.5 times that step the top mode has
    h = 1.25 and factor √(1 − 1.5625 + 2.4414) = 1.371."""
    game, params = _diagonal_bilinear(20)
    f = game.field_fn()
    eta = float(jax.jit(diagnostics.suggest_step_size, static_argnums=0)(f, params))
    np.testing.assert_allclose(eta, 0.25, rtol=1e-5)
    zero = jax.tree_util.tree_map(jnp.zeros_like, params)
    rho = jax.jit(jax.vmap(lambda e: spectral_radius(updates.extragradient(optax.sgd(e)), f, zero)))
    below, above = np.asarray(rho(jnp.array([eta, 2.5 * eta])))
    assert below < 1
    np.testing.assert_allclose(above, np.sqrt(1 - 1.25**2 + 1.25**4), rtol=1e-5)


def test_stiffness_metric_tracks_the_top_modulus_along_a_run():
    """EG on the JS Dirac GAN from (1, 0.5), recorded every 10 steps: the stiffness at the start and at the end
    equals the dense |λ|max of ∂F at those points (it tends to 1/2 at p*), and the base metrics are kept."""
    g = games.dirac_gan("js")
    metrics = diagnostics.stiffness_metric(krylov_dim=2, base=train.default_metrics)
    out = jax.jit(lambda p: train.run(g, updates.extragradient(optax.sgd(0.5)), p, jax.random.PRNGKey(0), steps=30,
                                      record_every=10, metrics=metrics))(Players(jnp.array(1.0), jnp.array(0.5)))
    stiffness = np.asarray(out.trajectory["stiffness"])
    assert stiffness.shape == (4,) and "distance" in out.trajectory
    dense = jax.jit(lambda p: jnp.max(jnp.abs(field_eigenvalues(g.field_fn(), p))))
    np.testing.assert_allclose(stiffness[0], dense(Players(jnp.array(1.0), jnp.array(0.5))), rtol=1e-5)
    np.testing.assert_allclose(stiffness[-1], dense(out.params), rtol=1e-5)
    assert abs(stiffness[0] - stiffness[-1]) > 1e-3


def test_bad_spectrum_arguments_are_named():
    game, params = _diagonal_bilinear(4)
    with pytest.raises(ValueError, match="which"):
        diagnostics.top_field_eigenvalues(game.field_fn(), params, which="SM")
    with pytest.raises(ValueError, match="k"):
        diagnostics.top_field_eigenvalues(game.field_fn(), params, k=30, krylov_dim=20)
    with pytest.raises(ValueError, match="krylov_dim"):
        diagnostics.stiffness_metric(krylov_dim=0)
