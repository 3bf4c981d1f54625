"""Behaviour of the update rules on toy games with known equilibria, by running them."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from minimax import games, train, updates

KEY = jax.random.PRNGKey(0)


def run(game, rule, steps, record_every=None, params=None):
    params = game.sample_init(KEY) if params is None else params
    return jax.jit(lambda p, k: train.run(game, rule, p, k, steps=steps, record_every=record_every or steps))(params, KEY)


def test_eg_converges_and_gda_diverges_on_bilinear():
    g = games.bilinear()
    eg = run(g, updates.extragradient(optax.sgd(0.3)), 2000)
    gda = run(g, updates.simultaneous(optax.sgd(0.3)), 2000)
    d0 = float(eg.trajectory["distance"][0])
    assert float(eg.trajectory["distance"][-1]) < 1e-6 * d0
    # GDA's distance grows like (1 + η²)^{k/2}: 2000 steps multiply it by e^{86}.
    assert float(gda.trajectory["distance"][-1]) > 1e30 * d0


def test_alternating_gda_stays_bounded_without_converging_on_zero_infinity_dirac():
    g = games.dirac_gan("zero_infinity")
    res = run(g, updates.alternating(optax.sgd(0.2)), 5000, record_every=10)
    d = np.asarray(res.trajectory["distance"])
    assert d.max() < 1.5 * d[0]    # bounded: the map preserves a quadratic form
    assert d[-500:].min() > 0.5 * d[0]  # and does not converge


@pytest.mark.parametrize("distance", ["js", "wasserstein", "zero_infinity"])
def test_eg_converges_on_every_dirac_gan(distance):
    g = games.dirac_gan(distance)  # the run enforces the Wasserstein critic's |w| <= 1
    res = run(g, updates.extragradient(optax.sgd(0.2)), 6000)
    assert float(res.trajectory["distance"][-1]) < 1e-3


def test_wasserstein_dirac_gda_respects_the_critic_constraint():
    g = games.dirac_gan("wasserstein")
    res = jax.jit(lambda p, k: train.run(g, optax.sgd(0.5), p, k, steps=400, record_every=1,
                                         metrics=lambda q, key, game, state: {"w": q.max}))(g.sample_init(KEY), KEY)
    assert float(jnp.max(jnp.abs(res.trajectory["w"]))) <= 1.0
    assert float(jnp.max(jnp.abs(res.trajectory["w"]))) > 0.99  # the constraint is active


@pytest.mark.parametrize("tau,gda_stable,eg_stable", [(1.0, False, False), (2.0, False, True), (4.0, True, True)])
def test_two_timescale_runs_on_the_quadratic_local_minimax_example(tau, gda_stable, eg_stable):
    g = games.quadratic()
    inner = updates.timescaled(optax.sgd(0.2), tau)
    for rule, stable in [(updates.simultaneous(inner), gda_stable), (updates.extragradient(inner), eg_stable)]:
        res = run(g, rule, 3000)
        d0, dT = float(res.trajectory["distance"][0]), float(res.trajectory["distance"][-1])
        assert (dT < 1e-3 * d0) == stable, (tau, dT, d0)


def test_translation_gan_moves_the_generator_to_the_data():
    g = games.translation_gan(data_mean=6.0, theta0=3.0)
    res = run(g, updates.extragradient(optax.sgd(0.1)), 4000, record_every=100)
    theta = float(res.params.min)
    assert abs(theta - 6.0) < 0.5, theta
    assert float(res.trajectory["distance"][-1]) < 0.3 * float(res.trajectory["distance"][0])
