"""minimax.baselines.flow (RealNVP): closed-form likelihoods, log-determinants against brute-force Jacobians."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from minimax import train, updates
from minimax.baselines.flow import RealNVP, flow_game, parity_masks


def _gaussian_log_prob(x, mean, std):
    return np.sum(-0.5 * ((x - mean) / std) ** 2 - np.log(std) - 0.5 * math.log(2 * math.pi), axis=-1)


@pytest.fixture(scope="module")
def model():
    return RealNVP(data_dim=3, num_layers=4, widths=(8,))


def test_an_untrained_flow_is_the_identity_with_the_standard_normal_likelihood(model):
    params = model.init(jax.random.PRNGKey(0))
    x = jax.random.normal(jax.random.PRNGKey(1), (6, 3)) * 2.0
    z, log_det = model.transform(params, x)
    np.testing.assert_array_equal(z, x)
    np.testing.assert_array_equal(log_det, np.zeros(6))
    np.testing.assert_allclose(model.log_prob(params, x), _gaussian_log_prob(x, 0.0, 1.0), rtol=1e-6)


def test_an_affine_flow_has_the_gaussian_likelihood_in_closed_form(model):
    # The element-wise layer x = e^a ⊙ h + m, and a first coupling whose conditioner outputs constants
    # (its output layer's bias): coordinates with b_0 = 0 are h = z e^{s} + t. Then x ~ N(μ, diag σ²).
    params = model.init(jax.random.PRNGKey(0))
    a, m = jnp.array([0.3, -0.4, 0.1]), jnp.array([1.0, -2.0, 0.5])
    s, t = jnp.array([0.7, -0.9, 0.2]), jnp.array([-1.5, 0.25, 3.0])
    bound = model.max_log_scale
    p = params["params"]
    p["log_scale"], p["shift"] = a, m
    p["conditioners_0"]["Dense_1"]["bias"] = jnp.concatenate([bound * jnp.arctanh(s / bound), t])
    moved = 1.0 - np.asarray(parity_masks(3, 4)[0])      # the coordinates the first coupling transforms
    mean = np.exp(a) * moved * t + m
    std = np.exp(a + moved * s)
    x = jax.random.normal(jax.random.PRNGKey(1), (6, 3)) * 2.0
    np.testing.assert_allclose(model.log_prob(params, x), _gaussian_log_prob(np.asarray(x), mean, std), rtol=1e-5,
                               atol=1e-5)


@pytest.mark.parametrize("logit_alpha", [None, 0.05])
def test_the_log_determinant_is_the_brute_force_jacobian_and_sampling_inverts_the_flow(logit_alpha):
    model = RealNVP(data_dim=3, num_layers=4, widths=(8,), logit_alpha=logit_alpha)
    params = model.init(jax.random.PRNGKey(0))
    params = jax.tree_util.tree_map(lambda p: p + 0.4 * jax.random.normal(jax.random.PRNGKey(3), p.shape), params)
    key = jax.random.PRNGKey(1)
    x = jax.random.uniform(key, (5, 3), minval=0.02, maxval=0.98) if logit_alpha else jax.random.normal(key, (5, 3))
    z, log_det = jax.jit(model.transform)(params, x)
    jacobians = jax.jit(jax.vmap(jax.jacfwd(lambda xi: model.transform(params, xi[None])[0][0])))(x)
    sign, brute = np.linalg.slogdet(np.asarray(jacobians, np.float64))
    assert np.all(sign > 0)
    np.testing.assert_allclose(log_det, brute, rtol=1e-4, atol=1e-4)
    assert float(jnp.max(jnp.abs(log_det))) > 0.5  # the random flow is far from volume-preserving
    np.testing.assert_allclose(jax.jit(model.sample)(params, z), x, atol=1e-4)


def test_the_game_loss_is_the_negative_log_likelihood_and_training_lowers_it(model):
    data = jax.random.normal(jax.random.PRNGKey(0), (64, 3)) * jnp.array([0.3, 2.0, 1.0]) + 1.0
    game = flow_game(model, data, batch_size=64)
    params = game.sample_init(jax.random.PRNGKey(1))
    value, log_prob = jax.jit(lambda p: (game.value(p, jax.random.PRNGKey(2)), model.log_prob(p.min, data)))(params)
    np.testing.assert_allclose(value, -jnp.mean(log_prob), rtol=1e-6)
    result = train.run(game, updates.simultaneous(optax.adam(1e-2)), params, jax.random.PRNGKey(3), steps=100)
    assert float(result.trajectory["loss"][-1]) < float(result.trajectory["loss"][0]) - 1.0


def test_dequantized_loss_fits_a_density_on_the_unit_cube():
    model = RealNVP(data_dim=2, num_layers=2, widths=(4,), logit_alpha=0.05, dequantize=256)
    data = jnp.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]])
    game = flow_game(model, data, batch_size=3)
    params = game.sample_init(jax.random.PRNGKey(0))
    value = jax.jit(lambda k: game.value(params, k))
    values = [float(value(jax.random.PRNGKey(k))) for k in range(3)]
    assert np.all(np.isfinite(values)) and len(set(values)) == 3  # fresh uniform noise each evaluation
    samples = jax.jit(model.sample)(params.min, model.noise(jax.random.PRNGKey(1), 100))
    assert float(samples.min()) >= 0.0 and float(samples.max()) <= 1.0


def test_bad_arguments_name_the_argument(model):
    with pytest.raises(ValueError, match="logit_alpha"):
        RealNVP(data_dim=2, logit_alpha=0.5)
    with pytest.raises(ValueError, match="dequantize"):
        RealNVP(data_dim=2, dequantize=1)
    with pytest.raises(ValueError, match="num_layers"):
        RealNVP(data_dim=2, num_layers=0)
    with pytest.raises(ValueError, match="widths"):
        RealNVP(data_dim=2, widths=8)
    with pytest.raises(ValueError, match="data"):
        flow_game(model, jnp.zeros((4, 2)), batch_size=2)
    with pytest.raises(ValueError, match="non-finite"):
        flow_game(model, jnp.full((4, 3), jnp.nan), batch_size=2)
    with pytest.raises(TypeError, match="model"):
        flow_game(object(), jnp.zeros((4, 3)), batch_size=2)
