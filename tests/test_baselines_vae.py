"""minimax.baselines.vae: the ELBO's closed form; both gradient estimators unbiased, reparameterization less noisy."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from minimax import Players, train, updates
from minimax.baselines.vae import ESTIMATORS, VAE, gradient_variance, vae_game
from minimax.data import ring8


def _zero_last_layers(params, widths):
    """Encoder and decoder output layers set to zero: q(z|x) = N(0, I) and a decoder that ignores z."""
    last = f"Dense_{len(widths)}"
    out = dict(params)
    for part in ("encoder", "decoder"):
        p = params[part]["params"]
        out[part] = {"params": dict(p, **{last: jax.tree_util.tree_map(jnp.zeros_like, p[last])})}
    return out


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_elbo_is_the_log_likelihood_when_the_posterior_is_exact(estimator):
    # Decoder ignoring z with mean b and scale e^s: p(x) = N(x; b, e^{2s}), the true posterior is the
    # prior, and q = N(0, I) is it, so f(z) = log p(x) for every z and ELBO = log p(x) exactly.
    model = VAE(data_dim=3, latent_dim=2, widths=(8,))
    params = _zero_last_layers(model.init(jax.random.PRNGKey(0)), (8,))
    b = jnp.array([0.5, -1.0, 2.0])
    s = jnp.array([0.0, -0.5, 0.3])
    params["decoder"]["params"]["Dense_1"]["bias"] = b
    params["log_scale"] = s
    x = jax.random.normal(jax.random.PRNGKey(1), (5, 3))
    exact = np.sum(-0.5 * ((x - b) / np.exp(s)) ** 2 - s - 0.5 * math.log(2 * math.pi), axis=1)
    elbo = model.elbo(params, x, jax.random.PRNGKey(2), estimator=estimator, num_samples=3)
    np.testing.assert_allclose(elbo, exact, rtol=1e-5, atol=1e-5)


def test_bernoulli_likelihood_is_the_cross_entropy():
    model = VAE(data_dim=4, latent_dim=2, widths=(8,), likelihood="bernoulli")
    params = model.init(jax.random.PRNGKey(0))
    x = jnp.array([[0.0, 1.0, 0.25, 1.0]])
    z = jnp.array([[0.3, -0.2]])
    m = np.asarray(model.sample(params, z))
    expected = np.sum(x * np.log(m) + (1 - x) * np.log(1 - m))
    np.testing.assert_allclose(model.log_likelihood(params, x, z), [expected], rtol=1e-5)


def test_both_estimators_are_unbiased_and_reparameterization_has_far_lower_variance():
    model = VAE(data_dim=2, latent_dim=2, widths=(16,))
    params = model.init(jax.random.PRNGKey(0))
    x = ring8().sample(jax.random.PRNGKey(1), 16)
    out = gradient_variance(model, params, x, jax.random.PRNGKey(2), draws=2000, num_samples=4)
    rep, sf = out["reparameterization"], out["score_function"]
    assert rep.mean.shape == sf.mean.shape == (2 * 16 + 16 + 16 * 4 + 4,)  # the encoder's parameters
    # the total variance of the score-function estimator is many times that of the reparameterization one
    assert float(sf.total / rep.total) > 5.0
    # both estimate the same gradient: the means agree within their standard errors
    se = np.sqrt(np.asarray(rep.variance) / rep.draws + np.asarray(sf.variance) / sf.draws)
    live = se > 0  # coordinates of dead ReLU units have no gradient under either estimator
    z = (np.asarray(rep.mean) - np.asarray(sf.mean))[live] / se[live]
    assert live.sum() > 50 and np.mean(z**2) < 2.0 and np.max(np.abs(z)) < 5.0
    np.testing.assert_array_equal(np.asarray(rep.mean)[~live], np.asarray(sf.mean)[~live])


def test_vae_game_trains_with_any_rule_and_lowers_the_negative_elbo():
    data = ring8(sigma=0.1).sample(jax.random.PRNGKey(0), 256)
    model = VAE(data_dim=2, latent_dim=2, widths=(16,))
    game = vae_game(model, data, batch_size=64)
    assert game.max_loss is None and isinstance(game.sample_init(jax.random.PRNGKey(1)), Players)
    result = train.run(game, updates.simultaneous(optax.adam(3e-3)), game.sample_init(jax.random.PRNGKey(1)),
                       jax.random.PRNGKey(2), steps=150, record_every=150)
    loss = np.asarray(result.trajectory["loss"])
    assert np.all(np.isfinite(loss)) and loss[-1] < loss[0] - 1.0
    assert model.sample(result.params.min, model.noise(jax.random.PRNGKey(3), 7)).shape == (7, 2)


def test_bad_arguments_name_the_argument():
    model = VAE(data_dim=2)
    data = jnp.zeros((10, 2))
    with pytest.raises(ValueError, match="estimator"):
        vae_game(model, data, batch_size=4, estimator="pathwise")
    with pytest.raises(ValueError, match="num_samples"):
        vae_game(model, data, batch_size=4, estimator="score_function", num_samples=1)
    with pytest.raises(ValueError, match="batch_size"):
        vae_game(model, data, batch_size=11)
    with pytest.raises(ValueError, match="data"):
        vae_game(model, jnp.zeros((10, 3)), batch_size=4)
    with pytest.raises(TypeError, match="model"):
        vae_game("vae", data, batch_size=4)
    with pytest.raises(ValueError, match="likelihood"):
        VAE(data_dim=2, likelihood="laplace")
    with pytest.raises(ValueError, match="latent_dim"):
        VAE(data_dim=2, latent_dim=0)
    with pytest.raises(ValueError, match="draws"):
        gradient_variance(model, model.init(jax.random.PRNGKey(0)), data, jax.random.PRNGKey(0), draws=1)
