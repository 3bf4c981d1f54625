"""minimax.baselines.flow_matching and .ode: the exact Gaussian velocity, OT pairing, ODE steps, straightness.

That a trained OT pairing straightens the sampling paths is checked through ``minimax compare``
(tests/test_compare.py)."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from minimax.baselines.flow_matching import (FlowMatchingModel, cfm_loss, flow_matching_game,
                                             gaussian_marginal_velocity, pair_sources)
from minimax.baselines.ode import odeint, straightness
from minimax.data import minibatches, ring8

MEAN, SCALE = jnp.array([2.0, -1.0]), 0.5


def _independent_pairs(key, n):
    k0, k1, kt = jax.random.split(key, 3)
    x0 = jax.random.normal(k0, (n, 2))
    x1 = MEAN + SCALE * jax.random.normal(k1, (n, 2))
    return x0, x1, jax.random.uniform(kt, (n,))


@pytest.mark.parametrize("t", [0.1, 0.5, 0.9])
def test_the_regression_target_has_the_closed_form_marginal_velocity(t):
    # E[x1 − x0 | x_t] is affine in x_t for Gaussians: least squares on (1, x_t) recovers the closed form.
    x0, x1, _ = _independent_pairs(jax.random.PRNGKey(0), 400_000)
    xt = (1 - t) * x0 + t * x1
    features = np.concatenate([np.ones((xt.shape[0], 1)), np.asarray(xt)], axis=1)
    coef, *_ = np.linalg.lstsq(features, np.asarray(x1 - x0), rcond=None)
    # u_t(x) = u_t(0) + c_t x: compare the intercept u_t(0) and the slope c_t I (standard errors ≈ 0.003)
    intercept = gaussian_marginal_velocity(jnp.zeros(2), t, MEAN, SCALE)
    slope = gaussian_marginal_velocity(jnp.ones(2), t, MEAN, SCALE) - intercept
    np.testing.assert_allclose(coef[0], intercept, atol=0.01)
    np.testing.assert_allclose(coef[1:], np.diag(slope), atol=0.01)


def test_the_cfm_loss_is_minimized_by_the_marginal_velocity():
    x0, x1, t = _independent_pairs(jax.random.PRNGKey(1), 200_000)
    exact = lambda x, t: gaussian_marginal_velocity(x, t[:, None], MEAN, SCALE)
    for h in (lambda x, t: x, lambda x, t: jnp.sin(3 * x) * t[:, None], lambda x, t: jnp.ones_like(x)):
        loss = lambda d: float(cfm_loss(lambda x, t: exact(x, t) + d * h(x, t), x0, x1, t))
        minus, zero, plus = loss(-0.2), loss(0.0), loss(0.2)
        assert -0.2 * (plus - minus) / (2 * (plus + minus - 2 * zero)) == pytest.approx(0.0, abs=0.01)
    # a field that is right on average but ignores x is worse
    assert float(cfm_loss(lambda x, t: jnp.broadcast_to(MEAN, x.shape), x0, x1, t)) > loss(0.0) + 0.1


def test_the_marginal_velocity_transports_the_source_to_the_target():
    x0 = jax.random.normal(jax.random.PRNGKey(2), (100_000, 2))
    x1 = odeint(lambda x, t: gaussian_marginal_velocity(x, t, MEAN, SCALE), x0, steps=50, method="heun")
    np.testing.assert_allclose(jnp.mean(x1, 0), MEAN, atol=0.01)
    np.testing.assert_allclose(jnp.std(x1, 0), [SCALE, SCALE], atol=0.01)


def test_euler_and_heun_match_their_closed_forms_on_linear_decay():
    for n in (1, 3, 10):
        h = 1.0 / n
        np.testing.assert_allclose(odeint(lambda x, t: -x, jnp.ones(2), steps=n), (1 - h) ** n, rtol=1e-6)
        np.testing.assert_allclose(odeint(lambda x, t: -x, jnp.ones(2), steps=n, method="heun"),
                                   (1 - h + h * h / 2) ** n, rtol=1e-6)
    # a traced step count (one compiled sampler for every count) and backwards integration
    run = jax.jit(lambda n: odeint(lambda x, t: -x, jnp.ones(()), steps=n))
    np.testing.assert_allclose([run(4), run(10)], [0.75**4, 0.9**10], rtol=1e-6)
    back = odeint(lambda x, t: 2 * t * jnp.ones_like(x), jnp.ones(()), steps=200, method="heun", t0=1.0, t1=0.0)
    np.testing.assert_allclose(back, 0.0, atol=1e-6)  # x(t) = t²
    with pytest.raises(ValueError, match="method"):
        odeint(lambda x, t: x, jnp.ones(()), steps=2, method="rk4")
    with pytest.raises(ValueError, match="steps"):
        odeint(lambda x, t: x, jnp.ones(()), steps=0)


def test_straightness_of_a_line_and_of_a_quarter_circle():
    t = jnp.linspace(0.0, 1.0, 2001)
    line = (jnp.array([[1.0, 2.0]]) + t[:, None, None] * jnp.array([[3.0, -1.0]]))
    s = straightness(line)
    assert float(s.ratio) == pytest.approx(1.0, abs=1e-5) and float(s.deviation) == pytest.approx(0.0, abs=1e-6)
    assert float(s.length) == pytest.approx(math.sqrt(10.0), rel=1e-5)
    r = 2.0
    arc = r * jnp.stack([jnp.cos(jnp.pi * t / 2), jnp.sin(jnp.pi * t / 2)], -1)[:, None, :]
    s = straightness(arc)
    # chord √2 r over arc length πr/2; ∫‖Δ − ẋ‖² = ‖Δ‖² − 2‖Δ‖² + (πr/2)² = (π²/4 − 2) r²
    assert float(s.ratio) == pytest.approx(2 * math.sqrt(2) / math.pi, rel=1e-5)
    assert float(s.deviation) == pytest.approx((math.pi**2 / 4 - 2) * r**2, rel=1e-4)


def test_ot_pairing_lowers_the_minibatch_transport_cost():
    from minimax import ot
    x0 = jax.random.normal(jax.random.PRNGKey(3), (64, 2))
    x1 = ring8().sample(jax.random.PRNGKey(4), 64)
    cost = lambda a: float(jnp.mean(jnp.sum((a - x1) ** 2, 1)))
    independent = cost(pair_sources(x0, x1, coupling="independent"))
    exact = pair_sources(x0, x1, coupling="exact")
    sinkhorn = pair_sources(x0, x1, coupling="sinkhorn", key=jax.random.PRNGKey(5), epsilon=0.01, iterations=100)
    np.testing.assert_allclose(np.sort(np.asarray(exact), 0), np.sort(np.asarray(x0), 0))  # a permutation of x0
    assert cost(exact) == pytest.approx(float(ot.assignment(x1, x0).cost), rel=1e-5)
    assert cost(exact) < 0.5 * independent and cost(sinkhorn) < 0.6 * independent
    with pytest.raises(ValueError, match="key"):
        pair_sources(x0, x1, coupling="sinkhorn")


def test_fixed_sources_are_game_leaves_and_bad_arguments_name_the_argument():
    model = FlowMatchingModel(data_dim=2, widths=(8,))
    data, source = jnp.ones((6, 2)), jnp.zeros((6, 2))
    game = flow_matching_game(model, data, batch_size=6, source=source, coupling="exact")
    params = game.sample_init(jax.random.PRNGKey(0))
    np.testing.assert_array_equal(game.args[1].array, source)
    value = jax.jit(lambda g: g.value(params, jax.random.PRNGKey(1)))
    moved = game.replace(args=(game.args[0], minibatches(source + 1.0, 6)))
    # the source x0 = 1 = x1 makes the target 0, so the loss is E‖v‖²: a new value from the same program
    assert float(value(moved)) != float(value(game))
    with pytest.raises(ValueError, match="coupling"):
        flow_matching_game(model, data, batch_size=2, coupling="monge")
    with pytest.raises(ValueError, match="source"):
        flow_matching_game(model, data, batch_size=2, source=jnp.zeros((6, 3)))
    with pytest.raises(ValueError, match="epsilon"):
        flow_matching_game(model, data, batch_size=2, coupling="sinkhorn", epsilon=0.0)
    with pytest.raises(TypeError, match="model"):
        flow_matching_game(None, data, batch_size=2)
