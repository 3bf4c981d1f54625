"""McGAN, Fisher, Cramér, relaxed Wasserstein, EBGAN, BEGAN and MAGAN against closed forms."""
import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minimax import Players, train
from minimax.games import gan_game
from minimax.losses import (FisherCritic, began_convergence, began_distance, began_update, cramer_critic,
                            cramer_critic_loss, cramer_distance, cramer_generator_loss, ebgan_distance,
                            fisher_critic, fisher_distance, fisher_lagrangian, magan_distance, magan_margin_update,
                            mcgan_covariance,
                            mcgan_distance, mcgan_mean, pulling_away, reconstruction_energy,
                            relaxed_wasserstein_distance, references as R)

RNG = np.random.default_rng(0)
PHI_REAL = jnp.asarray(RNG.normal(0.5, 1.0, (8, 3)), jnp.float32)
PHI_FAKE = jnp.asarray(RNG.normal(0.0, 1.5, (6, 3)), jnp.float32)
# Atoms with probabilities in eighths, written as samples (atom indices): batch means are exact expectations.
P, Q = np.array([3, 1, 4]) / 8, np.array([1, 5, 2]) / 8
REAL_IDX, FAKE_IDX = np.repeat(np.arange(3), [3, 1, 4]), np.repeat(np.arange(3), [1, 5, 2])


def random_orthonormal(key, m, k, n):
    return jnp.linalg.qr(jax.random.normal(key, (n, m, k)))[0]


def test_mcgan_mean_is_the_dual_norm_maximum():
    """‖Δμ‖_q = max over the dual unit ball of ⟨v, Δμ⟩, attained at v* (q = 2: Δ/‖Δ‖; q = 1: sign Δ)."""
    delta = jnp.mean(PHI_REAL, 0) - jnp.mean(PHI_FAKE, 0)
    v = jax.random.normal(jax.random.PRNGKey(0), (500, 3))
    for q, v_star, ball in [(2, delta / jnp.linalg.norm(delta), v / jnp.linalg.norm(v, axis=1, keepdims=True)),
                            (1, jnp.sign(delta), jnp.clip(v, -1, 1))]:
        value = mcgan_mean(PHI_REAL, PHI_FAKE, q=q)
        np.testing.assert_allclose(value, v_star @ delta, rtol=1e-6)
        assert np.all(ball @ delta <= value + 1e-6)
    # Identical features: 0, with a finite (zero) gradient.
    g = jax.grad(lambda a: mcgan_mean(a, PHI_REAL))(PHI_REAL)
    assert float(mcgan_mean(PHI_REAL, PHI_REAL)) == 0.0 and np.all(np.isfinite(g))


@pytest.mark.parametrize("k", [1, 2, None])
def test_mcgan_covariance_is_the_max_over_orthonormal_projections(k):
    """max_{UᵀU = VᵀV = I_k} tr(Uᵀ S V) = sum of the k largest singular values of S = Σ_P − Σ_Q."""
    s = np.asarray(PHI_REAL.T @ PHI_REAL / 8 - PHI_FAKE.T @ PHI_FAKE / 6, np.float64)
    u, sv, vt = np.linalg.svd(s)
    kk = 3 if k is None else k
    value = mcgan_covariance(PHI_REAL, PHI_FAKE, k=k)
    np.testing.assert_allclose(value, np.trace(u[:, :kk].T @ s @ vt.T[:, :kk]), rtol=1e-5)
    ku, kv = jax.random.split(jax.random.PRNGKey(kk))
    us, vs = random_orthonormal(ku, 3, kk, 300), random_orthonormal(kv, 3, kk, 300)
    traces = jnp.einsum("nmk,ml,nlk->n", us, jnp.asarray(s, jnp.float32), vs)
    assert np.all(traces <= value + 1e-5)
    if k is None:  # S is symmetric: the nuclear norm is Σ|λ_i|
        np.testing.assert_allclose(value, np.sum(np.abs(np.linalg.eigvalsh(s))), rtol=1e-5)


def test_mcgan_distance_game_and_errors():
    d = mcgan_distance(k=0)
    np.testing.assert_allclose(d.generator_loss(PHI_REAL, PHI_FAKE), mcgan_mean(PHI_REAL, PHI_FAKE))
    d = mcgan_distance(q=1, k=2, clip=0.05)
    np.testing.assert_allclose(d.generator_loss(PHI_REAL, PHI_FAKE), -d.critic_loss(PHI_REAL, PHI_FAKE))
    np.testing.assert_allclose(d.critic_projection(jnp.array([-1.0, 0.01, 1.0])), [-0.05, 0.01, 0.05])
    g = jax.grad(lambda a: mcgan_covariance(a, PHI_REAL))(PHI_REAL)  # degenerate S = 0
    assert np.all(np.isfinite(g))
    with pytest.raises(ValueError, match="q must be 1 or 2"):
        mcgan_mean(PHI_REAL, PHI_FAKE, q=3)
    with pytest.raises(ValueError, match="0 <= k <= 3"):
        mcgan_covariance(PHI_REAL, PHI_FAKE, k=4)
    with pytest.raises(ValueError, match="critic outputs must have shape"):
        mcgan_mean(PHI_REAL[:, 0], PHI_FAKE[:, 0])


FISHER_APPLY = fisher_critic(lambda f, x: f[x])  # a free critic: one value per atom


def test_fisher_gan_saddle_is_the_chi2_fisher_ipm():
    """Descent on the max player's loss (critic f by ascent on L_F, λ by descent) converges to
    Ω̂ = 1 and Ê = √(2Σ(p − q)²/(p + q)) = 2√χ²(P‖(P+Q)/2), with λ = Ê/2."""
    d = fisher_distance(rho=1.0)
    loss = lambda c: d.critic_loss(FISHER_APPLY(c, REAL_IDX), FISHER_APPLY(c, FAKE_IDX))

    def step(c, _):
        return jax.tree_util.tree_map(lambda a, g: a - 0.1 * g, c, jax.grad(loss)(c)), None

    c, _ = jax.jit(lambda c: jax.lax.scan(step, c, None, length=3000))(FisherCritic(jnp.zeros(3), jnp.float32(0.0)))
    f = np.asarray(c.params, np.float64)
    ipm = 2 * math.sqrt(float(R.pearson_chi2(P, (P + Q) / 2)))
    np.testing.assert_allclose(0.5 * P @ f**2 + 0.5 * Q @ f**2, 1.0, rtol=1e-4)
    np.testing.assert_allclose(P @ f - Q @ f, ipm, rtol=1e-4)
    np.testing.assert_allclose(P @ f - Q @ f, math.sqrt(2 * np.sum((P - Q) ** 2 / (P + Q))), rtol=1e-4)
    np.testing.assert_allclose(c.lam, ipm / 2, rtol=1e-3)
    np.testing.assert_allclose(d.generator_loss(FISHER_APPLY(c, REAL_IDX), FISHER_APPLY(c, FAKE_IDX)), ipm, rtol=1e-4)


def test_fisher_critic_loss_gradients_are_those_of_the_lagrangian():
    """∂L_w/∂f = −∂L_F/∂f (ascent for the critic) and ∂L_w/∂λ = +∂L_F/∂λ = 1 − Ω̂ (descent for λ)."""
    rho = 0.3
    c = FisherCritic(jnp.array([0.5, -1.0, 2.0]), jnp.float32(0.7))
    d = fisher_distance(rho)
    g = jax.grad(lambda c: d.critic_loss(FISHER_APPLY(c, REAL_IDX), FISHER_APPLY(c, FAKE_IDX)))(c)
    lf = lambda f, lam: fisher_lagrangian(f[REAL_IDX], f[FAKE_IDX], lam, rho)
    gf, glam = jax.grad(lf, argnums=(0, 1))(c.params, c.lam)
    np.testing.assert_allclose(g.params, -gf, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(g.lam, glam, rtol=1e-6)
    f = np.asarray(c.params)
    np.testing.assert_allclose(g.lam, 1 - (0.5 * P @ f**2 + 0.5 * Q @ f**2), rtol=1e-5)
    with pytest.raises(ValueError, match=r"\(batch, 2\)"):
        d.critic_loss(PHI_REAL, PHI_FAKE)


def test_cramer_losses_are_the_energy_distance_in_expectation():
    """h = identity in 1-D, expectations by enumerating all independent triples (x_r, x_g, x′_g):
    E[generator loss] − E|X − X′| = 2E|X − Y| − E|X − X′| − E|Y − Y′| = 2∫(F − G)² (Cramér distance)."""
    xs, ys = np.array([0.0, 1.0, 3.0]), np.array([0.5, 2.0])
    triples = np.array(list(itertools.product(xs, ys, ys)), np.float32)
    h_r, h_g, h_g2 = (jnp.asarray(triples[:, i : i + 1]) for i in range(3))
    e_xx = np.mean(np.abs(xs[:, None] - xs[None, :]))
    grid = np.sort(np.concatenate([xs, ys]))
    cdf_gap = [np.mean(xs <= t) - np.mean(ys <= t) for t in grid[:-1]]
    cramer = 2 * np.sum(np.square(cdf_gap) * np.diff(grid))
    np.testing.assert_allclose(cramer_generator_loss(h_r, h_g, h_g2) - e_xx, cramer, rtol=1e-5)
    # The critic's surrogate f(x) = ‖x − x′_g‖ − ‖x‖ and its loss −(E f(x_r) − E f(x_g)).
    np.testing.assert_allclose(cramer_critic(h_r, h_g2), np.abs(triples[:, 0] - triples[:, 2]) - np.abs(triples[:, 0]))
    expected = -(np.mean(np.abs(triples[:, 0] - triples[:, 2]) - np.abs(triples[:, 0]))
                 - np.mean(np.abs(triples[:, 1] - triples[:, 2]) - np.abs(triples[:, 1])))
    np.testing.assert_allclose(cramer_critic_loss(h_r, h_g, h_g2), expected, rtol=1e-6)
    # The Distance reads two stacked generated batches.
    d = cramer_distance()
    fake = jnp.concatenate([h_g, h_g2])
    np.testing.assert_allclose(d.generator_loss(h_r, fake), cramer_generator_loss(h_r, h_g, h_g2))
    np.testing.assert_allclose(d.critic_loss(h_r, fake), cramer_critic_loss(h_r, h_g, h_g2))
    g = jax.grad(lambda a: d.generator_loss(a, jnp.concatenate([a, a])))(h_r)  # zero distances: finite gradient
    assert np.all(np.isfinite(g))
    with pytest.raises(ValueError, match="two generated batches"):
        d.critic_loss(h_r, fake[:-1])


def test_relaxed_wasserstein_clips_asymmetrically():
    d = relaxed_wasserstein_distance(-0.01, 0.03)
    np.testing.assert_allclose(d.critic_projection({"w": jnp.array([-1.0, 0.02, 1.0])})["w"], [-0.01, 0.02, 0.03])
    np.testing.assert_allclose(d.critic_loss(jnp.array([2.0, 4.0]), jnp.array([1.0])), -(3.0 - 1.0))
    assert d.zero_sum
    with pytest.raises(ValueError, match="lower"):
        relaxed_wasserstein_distance(0.03, -0.01)


def test_ebgan_critic_minimum_is_margin_times_one_minus_tv():
    """min over energies D >= 0 of E_P D + E_Q max(0, m − D) = m·Σ min(p, q) = m(1 − TV), at D = m·[p < q]."""
    m = 2.5
    d = ebgan_distance(m)
    loss = lambda e: d.critic_loss(e[REAL_IDX], e[FAKE_IDX])
    d_star = jnp.asarray(m * (P < Q), jnp.float32)
    value = m * (1 - float(R.total_variation(P, Q)))
    np.testing.assert_allclose(loss(d_star), value, rtol=1e-6)
    others = jax.random.uniform(jax.random.PRNGKey(0), (300, 3), maxval=2 * m)
    assert np.all(jax.vmap(loss)(others) >= value - 1e-6)
    # Above the margin, fake energies get no gradient from the critic's loss; the generator lowers them.
    g = jax.grad(d.critic_loss, argnums=1)(jnp.ones(2), jnp.array([m + 1.0, m - 1.0]))
    np.testing.assert_allclose(g, [0.0, -0.5])
    np.testing.assert_allclose(jax.grad(d.generator_loss, argnums=1)(jnp.ones(2), jnp.ones(4)), 0.25)


def test_reconstruction_energy_and_pulling_away():
    x = jnp.asarray(RNG.normal(size=(4, 2, 3)), jnp.float32)
    rec = x + 0.5
    np.testing.assert_allclose(reconstruction_energy(x, rec), 0.25, rtol=1e-6)
    np.testing.assert_allclose(reconstruction_energy(x, rec, power=1), 0.5, rtol=1e-6)
    assert float(jnp.max(reconstruction_energy(x, x))) == 0.0
    with pytest.raises(ValueError, match="same batched shape"):
        reconstruction_energy(x, x[:, 0])
    # f_PT: 0 for orthogonal features, 1 for parallel ones, invariant to per-sample scale.
    np.testing.assert_allclose(pulling_away(jnp.eye(3) * jnp.array([[1.0], [2.0], [3.0]])), 0.0, atol=1e-7)
    np.testing.assert_allclose(pulling_away(jnp.outer(jnp.array([1.0, -2.0, 3.0]), jnp.array([1.0, 2.0]))), 1.0,
                               rtol=1e-6)
    s = x.reshape(4, 6)
    np.testing.assert_allclose(pulling_away(s * jnp.array([[2.0], [0.5], [3.0], [1.0]])), pulling_away(s), rtol=1e-5)
    with pytest.raises(ValueError, match="batch >= 2"):
        pulling_away(s[:1])


@settings(max_examples=40, deadline=None)
@given(st.floats(0, 1), st.floats(0, 5), st.floats(0, 5), st.floats(0.1, 1.0), st.floats(1e-4, 0.5))
def test_began_controller(k, real, fake, gamma, lambda_k):
    """k_{t+1} stays in [0, 1], moves with the sign of γL(x) − L(G(z)) (unless clipped), and is
    fixed at the equilibrium γL(x) = L(G(z))."""
    r, f = jnp.full((3,), real, jnp.float32), jnp.full((3,), fake, jnp.float32)
    k1 = float(began_update(jnp.float32(k), r, f, gamma=gamma, lambda_k=lambda_k))
    assert 0.0 <= k1 <= 1.0
    np.testing.assert_allclose(k1, min(1.0, max(0.0, k + lambda_k * (gamma * real - fake))), rtol=1e-5, atol=1e-6)
    balanced = float(began_update(jnp.float32(k), r, gamma * r, gamma=gamma, lambda_k=lambda_k))
    np.testing.assert_allclose(balanced, k, atol=1e-6)
    np.testing.assert_allclose(began_convergence(r, f, gamma=gamma), real + abs(gamma * real - fake), rtol=1e-5,
                               atol=1e-6)


def test_began_losses():
    """L_D = E L(x) − k·E L(G(z)): the critic pushes fake energies up with weight k; L_G = E L(G(z))."""
    d = began_distance()
    gr, gf = jax.grad(d.critic_loss, argnums=(0, 1))(jnp.ones(2), jnp.ones(4), jnp.float32(0.3))
    np.testing.assert_allclose(gr, 0.5)
    np.testing.assert_allclose(gf, -0.3 / 4)
    np.testing.assert_allclose(d.generator_loss(jnp.ones(2), jnp.array([1.0, 3.0]), 0.3), 2.0)
    np.testing.assert_allclose(d.init_state(), 0.0)


def test_began_k_is_carried_by_the_run():
    """A BEGAN game with energies D(x) = x² (a fixed 'autoencoder' whose energy is the critic output):
    after each step k_{t+1} = clip(k_t + λ_k(γ E D(x) − E D(G(z)))) on that step's energies, by hand."""
    data = jnp.array([[1.0], [2.0]])
    latent = jnp.array([[0.5], [1.5]])
    gamma, lam = 0.5, 0.1
    game = gan_game(lambda th, z: z * th, lambda w, x: w * jnp.sum(x**2, axis=1), began_distance(
        gamma=gamma, lambda_k=lam), data, latent)
    p = Players(jnp.float32(1.2), jnp.float32(1.0))
    res = train.run(game, optax.sgd(0.05), p, jax.random.PRNGKey(0), steps=3, record_every=1,
                    metrics=lambda params, key, g, k: {"k": k, "theta": params.min, "w": params.max})
    k_expected = [0.0]
    for t in range(3):
        th, w = float(res.trajectory["theta"][t]), float(res.trajectory["w"][t])
        real = w * np.mean(np.sum(np.asarray(data) ** 2, 1))
        fake = w * np.mean(np.sum((np.asarray(latent) * th) ** 2, 1))
        k_expected.append(min(1.0, max(0.0, k_expected[-1] + lam * (gamma * real - fake))))
    np.testing.assert_allclose(res.trajectory["k"], k_expected, rtol=1e-5, atol=1e-7)


def test_magan_margin_adapts_once_per_epoch():
    d = magan_distance(5.0, epoch_steps=2)
    st = d.init_state()
    st = d.update_state(st, jnp.array([1.0, 2.0]), jnp.array([4.0, 4.0]))   # mid-epoch: margin kept
    assert float(st.margin) == 5.0 and int(st.count) == 1
    st = d.update_state(st, jnp.array([2.0, 3.0]), jnp.array([4.0, 6.0]))   # epoch means: real 2, fake 4.5
    assert float(st.margin) == pytest.approx(2.0) and int(st.count) == 0 and float(st.real_sum) == 0.0
    np.testing.assert_allclose(d.critic_loss(jnp.array([1.0]), jnp.array([0.5]), st), 1.0 + 1.5)


def test_magan_margin_only_shrinks_to_the_real_energy():
    update = lambda m, real, fake: float(magan_margin_update(jnp.float32(m), jnp.asarray(real), jnp.asarray(fake)))
    assert update(2.0, [1.0, 1.5], [3.0, 3.0]) == pytest.approx(1.25)  # E_real < m and E_real < E_fake
    assert update(2.0, [1.0, 1.5], [0.5, 1.0]) == 2.0                  # fakes have lower energy: keep m
    assert update(1.0, [1.0, 1.5], [3.0, 3.0]) == 1.0                  # E_real >= m: keep m
    with pytest.raises(ValueError, match="critic outputs must have shape"):
        magan_margin_update(1.0, jnp.ones((2, 2)), jnp.ones((2, 2)))
