"""Element-wise critic losses and the registered distances against their games' closed forms.

Discrete distributions with probabilities in eighths are written as samples (atoms repeated),
so a Distance's batch means are exact expectations and critic outputs are one value per atom.
"""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import log_expit

from minimax.losses import (DISTANCES, gradient_penalty, hinge, least_squares, linear, logistic, lsgan_distance,
                            non_saturating, references as R)
from minimax.losses.distances import get

P = np.array([3, 1, 4]) / 8
Q = np.array([1, 5, 2]) / 8
REAL_IDX, FAKE_IDX = np.repeat(np.arange(3), [3, 1, 4]), np.repeat(np.arange(3), [1, 5, 2])
OTHERS = jnp.asarray(np.random.default_rng(0).normal(0.0, 3.0, (200, 3)), jnp.float32)


def on_atoms(loss, v):
    """A Distance loss with critic value v[i] at atom i: E_P and E_Q are exact."""
    return loss(v[REAL_IDX], v[FAKE_IDX])


def test_logistic_game_inner_maximum_is_2jsd_minus_log4():
    """max_D E_P log D + E_Q log(1 − D) = 2·JSD(P, Q) − log 4, at D* = p/(p+q), i.e. logit v* = log(p/q)."""
    critic = DISTANCES["js"].critic_loss
    v_star = jnp.log(jnp.asarray(P / Q, jnp.float32))
    value = 2 * R.jensen_shannon(P, Q) - math.log(4.0)
    np.testing.assert_allclose(-on_atoms(critic, v_star), value, rtol=1e-6)
    np.testing.assert_allclose(jax.nn.sigmoid(v_star), R.optimal_discriminator(P, Q), rtol=1e-6)
    np.testing.assert_allclose(jax.grad(lambda v: on_atoms(critic, v))(v_star), 0.0, atol=1e-6)
    others = -jax.vmap(lambda v: on_atoms(critic, v))(OTHERS)
    assert np.all(others <= value + 1e-6)


def test_non_saturating_generator_keeps_its_gradient_where_the_minimax_one_vanishes():
    """At confidently rejected samples (logit −20): d/dt log(1 − σ(t)) ≈ −e^{−20}, d/dt −log σ(t) ≈ −1."""
    fake, real = jnp.full((4,), -20.0), jnp.zeros((4,))
    minimax = jax.grad(DISTANCES["js"].generator_loss, argnums=1)(real, fake)
    ns = jax.grad(DISTANCES["ns"].generator_loss, argnums=1)(real, fake)
    np.testing.assert_allclose(ns, -0.25, rtol=1e-6)
    assert np.all(np.abs(minimax) < 1e-8) and np.all(minimax < 0)
    # Same critic as the minimax game.
    np.testing.assert_allclose(DISTANCES["ns"].critic_loss(real + 1.0, fake), DISTANCES["js"].critic_loss(real + 1.0, fake))


def test_lsgan_optimal_critic_and_pearson_relation():
    """a = −1, b = 1, c = 0 (b − c = 1, b − a = 2): D* = (p − q)/(p + q), and 2·C(G) with
    C(G) = ½E_P(D* − c)² + ½E_Q(D* − c)² equals ∫(2q − (p + q))²/(p + q), Mao et al.'s Pearson χ²."""
    d = DISTANCES["lsgan_chi2"]
    d_star = jnp.asarray((P - Q) / (P + Q), jnp.float32)
    np.testing.assert_allclose(jax.grad(lambda v: on_atoms(d.critic_loss, v))(d_star), 0.0, atol=1e-6)
    assert np.all(jax.vmap(lambda v: on_atoms(d.critic_loss, v))(OTHERS) >= on_atoms(d.critic_loss, d_star) - 1e-6)
    on_p, on_q = d_star[REAL_IDX], d_star[FAKE_IDX]
    c_of_g = d.generator_loss(on_p, on_q) + d.generator_loss(on_q, on_p)  # the generator loss reads fake outputs
    np.testing.assert_allclose(2 * c_of_g, R.pearson_chi2(2 * Q, P + Q), rtol=1e-5)
    np.testing.assert_allclose(2 * c_of_g, np.sum((P - Q) ** 2 / (P + Q)), rtol=1e-5)


@pytest.mark.parametrize("a,b,c", [(0.0, 1.0, 1.0), (-1.0, 1.0, 0.0), (0.2, 3.0, 1.0)])
def test_lsgan_optimal_critic_for_any_labels(a, b, c):
    """The critic's minimizer is D* = (b·p + a·q)/(p + q) (Mao et al., Proposition 1)."""
    d = lsgan_distance(a, b, c)
    d_star = jnp.asarray((b * P + a * Q) / (P + Q), jnp.float32)
    np.testing.assert_allclose(jax.grad(lambda v: on_atoms(d.critic_loss, v))(d_star), 0.0, atol=1e-6)
    np.testing.assert_allclose(jax.grad(d.generator_loss, argnums=1)(jnp.zeros(2), jnp.full((2,), c)), 0.0)


def test_hinge_critic_minimum_is_two_minus_twice_tv():
    """min_D E_P max(0, 1 − D) + E_Q max(0, 1 + D) = Σ 2·min(p, q) = 2(1 − TV), at D = sign(p − q)."""
    critic = DISTANCES["hinge"].critic_loss
    d_star = jnp.sign(jnp.asarray(P - Q, jnp.float32))
    value = 2.0 * (1.0 - R.total_variation(P, Q))
    np.testing.assert_allclose(on_atoms(critic, d_star), value, rtol=1e-6)
    assert np.all(jax.vmap(lambda v: on_atoms(critic, v))(OTHERS) >= value - 1e-6)
    # Its generator pushes D(G(z)) up with unit slope, whatever the critic's margin.
    slope = jax.grad(DISTANCES["hinge"].generator_loss, argnums=1)(jnp.zeros(2), jnp.array([5.0, -5.0]))
    np.testing.assert_allclose(slope, -0.5)


def test_elementwise_losses_formulas_and_finite_gradients_at_extreme_logits():
    t = jnp.array([-1e4, -30.0, -1.0, 0.0, 1.0, 30.0, 1e4])
    np.testing.assert_allclose(logistic(t), np.logaddexp(0.0, -np.asarray(t, np.float64)), rtol=1e-6)
    np.testing.assert_allclose(non_saturating(t), -log_expit(np.asarray(t, np.float64)), rtol=1e-6)  # −log σ(t)
    np.testing.assert_allclose(hinge(t), np.maximum(0.0, 1.0 - np.asarray(t)))
    np.testing.assert_allclose(least_squares(t, 1.0), 0.5 * (np.asarray(t, np.float64) - 1.0) ** 2, rtol=1e-6)
    for l in (logistic, linear, non_saturating, hinge, lambda x: least_squares(x, 1.0)):
        g = jax.vmap(jax.grad(l))(t)
        assert np.all(np.isfinite(l(t))) and np.all(np.isfinite(g))
        assert np.all(np.abs(g) <= 1e4 + 1)


NON_FGAN = sorted(n for n in DISTANCES if not n.startswith("fgan_"))


@pytest.mark.parametrize("name", NON_FGAN)
def test_registered_distances_finite_at_extreme_outputs_and_zero_sum_flag(name):
    d = DISTANCES[name]
    real, fake = jnp.array([1e4, -1e4, 3.0]), jnp.array([-1e4, 1e4, 0.5, 2.0])
    for loss in (d.critic_loss, d.generator_loss):
        assert np.isfinite(loss(real, fake))
        assert all(np.all(np.isfinite(g)) for g in jax.grad(loss, argnums=(0, 1))(real, fake))
    v = OTHERS[0]
    if d.zero_sum:
        np.testing.assert_allclose(d.generator_loss(v, v[::-1]), -d.critic_loss(v, v[::-1]))
    else:
        assert not np.allclose(d.generator_loss(v, v[::-1]), -d.critic_loss(v, v[::-1]))


def test_registry_names_and_wasserstein_variants():
    assert {"js", "ns", "wasserstein", "wgan_gp", "wgan_gp_one_sided", "zero_infinity", "lsgan", "lsgan_chi2",
            "hinge"} <= set(DISTANCES)
    assert [n for n in NON_FGAN if not DISTANCES[n].zero_sum] == ["hinge", "lsgan", "lsgan_chi2", "ns"]
    clipped = DISTANCES["wasserstein"].critic_projection({"w": jnp.array([-1.0, 0.005, 2.0])})
    np.testing.assert_allclose(clipped["w"], [-0.01, 0.005, 0.01])
    assert DISTANCES["wgan_gp"].regularizers == (gradient_penalty,) and DISTANCES["zero_infinity"].regularizers == ()
    # The penalty the registry attaches: zero at unit slope, λ(‖a‖ − 1)² otherwise; one-sided only above 1.
    x, y, key = jnp.ones((5, 2)), jnp.zeros((5, 2)), jax.random.PRNGKey(0)
    apply = lambda w, x: x @ w
    for name, slope, expected in [("wgan_gp", 1.0, 0.0), ("wgan_gp", 2.0, 10.0), ("wgan_gp", 0.5, 2.5),
                                  ("wgan_gp_one_sided", 0.5, 0.0), ("wgan_gp_one_sided", 2.0, 10.0)]:
        w = jnp.array([slope, 0.0])
        np.testing.assert_allclose(DISTANCES[name].regularization(apply, w, x, y, key), expected, rtol=1e-6, atol=1e-6)
    with_r1 = DISTANCES["zero_infinity"].with_regularizers(lambda *args: jnp.float32(2.0))
    assert with_r1.name == "zero_infinity" and float(with_r1.regularization(apply, w, x, y)) == 2.0
    with pytest.raises(TypeError, match="callable"):
        DISTANCES["js"].with_regularizers("r1")


def test_errors_for_bad_shapes_and_unknown_names():
    with pytest.raises(ValueError, match="unknown distance 'wgan'"):
        get("wgan")
    for name in ("js", "ns", "lsgan", "hinge"):
        with pytest.raises(ValueError, match="critic outputs must have shape"):
            DISTANCES[name].critic_loss(jnp.zeros((4, 1)), jnp.zeros((4, 1)))
        with pytest.raises(ValueError, match="critic outputs must have shape"):
            DISTANCES[name].generator_loss(jnp.zeros((4,)), jnp.zeros(()))
