"""minimax.baselines.score_matching: the DSM loss is minimized by the analytic score of the noised mixture,
and the samplers turn that score into the mixture."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from minimax import train, updates
from minimax.baselines.score_matching import (ScoreModel, annealed_langevin, dsm_loss, gaussian_mixture_score,
                                              probability_flow, score_matching_game)
from minimax.data import ring8
from minimax.metrics import mode_coverage

MIXTURE = ring8(radius=2.0, sigma=0.3)


def _analytic(scale=1.0):
    return lambda x, sigma: scale * gaussian_mixture_score(x, MIXTURE.centers, MIXTURE.sigma, sigma)


def _best_step(score_fn, direction, x, key, delta=0.2, **levels):
    """argmin over δ of the DSM loss of score + δ·direction on fixed noise draws: the loss is exactly a parabola
    in δ, so its values at δ ∈ {−Δ, 0, Δ} give the minimizer."""
    loss = lambda d: float(dsm_loss(lambda y, s: score_fn(y, s) + d * direction(y, s), x, key, **levels))
    minus, zero, plus = loss(-delta), loss(0.0), loss(delta)
    assert plus + minus - 2.0 * zero > 0.0
    return -delta * (plus - minus) / (2.0 * (plus + minus - 2.0 * zero))


DIRECTIONS = {
    "score": lambda y, s: gaussian_mixture_score(y, MIXTURE.centers, MIXTURE.sigma, s),
    "position": lambda y, s: y,
    "sine": lambda y, s: jnp.sin(2.0 * y[:, ::-1]),
    "constant": lambda y, s: jnp.broadcast_to(jnp.array([1.0, -0.5]), y.shape),
}


@pytest.fixture(scope="module")
def data():
    return MIXTURE.sample(jax.random.PRNGKey(0), 200_000)


@pytest.mark.parametrize("levels", [dict(sigma_min=0.5, sigma_max=0.5), dict(sigma_min=0.1, sigma_max=2.0)])
def test_the_dsm_loss_is_minimized_by_the_analytic_score_of_the_noised_mixture(data, levels):
    # Along every direction h, the loss of s* + δh is a parabola in δ whose minimum sits at δ = 0 (up to Monte
    # Carlo error) for the true score of p_σ = p * N(0, σ²I), and away from 0 for wrong scores.
    key = jax.random.PRNGKey(1)
    for name, h in DIRECTIONS.items():
        assert abs(_best_step(_analytic(), h, data, key, **levels)) < 0.01, name
    assert abs(_best_step(_analytic(0.8), DIRECTIONS["score"], data, key, **levels) - 0.2) < 0.02
    clean = lambda y, s: gaussian_mixture_score(y, MIXTURE.centers, MIXTURE.sigma, 0.0)  # ignores the noise
    assert abs(_best_step(clean, DIRECTIONS["position"], data, key, **levels)) > 0.05


def test_the_analytic_score_is_the_gradient_of_the_log_density():
    x = jax.random.normal(jax.random.PRNGKey(0), (5, 2))
    sigma = jnp.array([0.1, 0.5, 1.0, 2.0, 0.3])

    def log_density(xi, s):
        var = MIXTURE.sigma**2 + s**2
        return jax.nn.logsumexp(-jnp.sum((xi - MIXTURE.centers) ** 2, axis=1) / (2 * var)) - jnp.log(var)

    expected = jax.vmap(jax.grad(log_density))(x, sigma)
    np.testing.assert_allclose(gaussian_mixture_score(x, MIXTURE.centers, MIXTURE.sigma, sigma), expected,
                               rtol=1e-5, atol=1e-6)


def test_both_samplers_turn_the_exact_score_into_the_mixture():
    target = ring8(radius=2.0, sigma=0.05)
    score = lambda x, s: gaussian_mixture_score(x, target.centers, target.sigma, s)
    noise = jax.random.normal(jax.random.PRNGKey(0), (1024, 2))
    levels = dict(sigma_min=0.01, sigma_max=4.0)
    ode_samples = probability_flow(score, noise, steps=64, method="heun", **levels)
    langevin = annealed_langevin(score, noise, jax.random.PRNGKey(1), levels=10, steps_per_level=50, **levels)
    for samples in (ode_samples, langevin):
        cover = mode_coverage(samples, target)
        assert int(cover.modes_covered) == 8 and float(cover.high_quality) > 0.95
        assert int(cover.counts.min()) > 1024 / 8 / 2  # no mode starved
    # the ODE is deterministic: the same latents give the same samples
    np.testing.assert_array_equal(probability_flow(score, noise, steps=64, **levels), ode_samples)


@pytest.mark.slow
def test_a_trained_score_network_approaches_the_analytic_score():
    model = ScoreModel(data_dim=2, widths=(64, 64), sigma_min=0.1, sigma_max=4.0)
    game = score_matching_game(model, MIXTURE.sample(jax.random.PRNGKey(0), 4096), batch_size=256)
    result = train.run(game, updates.simultaneous(optax.adam(2e-3)), game.sample_init(jax.random.PRNGKey(1)),
                       jax.random.PRNGKey(2), steps=3000)
    for sigma in (0.3, 1.0):
        x = MIXTURE.sample(jax.random.PRNGKey(3), 4096)
        x = x + sigma * jax.random.normal(jax.random.PRNGKey(4), x.shape)
        exact = gaussian_mixture_score(x, MIXTURE.centers, MIXTURE.sigma, sigma)
        error = jnp.mean(jnp.sum((model.score(result.params.min, x, sigma) - exact) ** 2, 1))
        assert float(error / jnp.mean(jnp.sum(exact**2, 1))) < 0.1, sigma


def test_the_game_and_its_sampler_have_the_documented_shapes_and_errors():
    model = ScoreModel(data_dim=2, widths=(8,), sigma_min=0.05, sigma_max=3.0)
    game = score_matching_game(model, jnp.ones((16, 2)), batch_size=8)
    params = game.sample_init(jax.random.PRNGKey(0))
    assert np.isfinite(float(game.value(params, jax.random.PRNGKey(1))))
    path = model.sample(params.min, model.noise(jax.random.PRNGKey(2), 5), steps=3, method="euler", trajectory=True)
    assert path.shape == (4, 5, 2)
    np.testing.assert_allclose(path[0] / 3.0, model.noise(jax.random.PRNGKey(2), 5), rtol=1e-6)
    with pytest.raises(ValueError, match="sigma_max"):
        ScoreModel(data_dim=2, sigma_min=1.0, sigma_max=0.5)
    with pytest.raises(ValueError, match="sigma_min"):
        ScoreModel(data_dim=2, sigma_min=0.0)
    with pytest.raises(ValueError, match="levels"):
        model.langevin(params.min, jnp.zeros((2, 2)), jax.random.PRNGKey(0), levels=1)
    with pytest.raises(ValueError, match="batch_size"):
        score_matching_game(model, jnp.ones((16, 2)), batch_size=0)
