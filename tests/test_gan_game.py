"""The GAN game builder against hand-written fields, risks, model kinds and projections."""
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from minimax import Players, train
from minimax.games import DIRAC_DISTANCES, dirac_gan, gan_game, init_players, normal_latent
from minimax.losses import DISTANCES
from minimax.losses.sample_distances import energy_distance, mmd2, mmd_gan
from minimax.models import MLPCritic, MLPGenerator, nnx_model
from minimax.updates import simultaneous

KEY = jax.random.PRNGKey(0)


def dirac_builder(name):
    """The Dirac GAN from plain functions: data δ₀, generator G_θ(z) = θ, critic f_w(x) = w·x."""
    return gan_game(lambda th, z: th + 0.0 * z, lambda w, x: w * x, DISTANCES[name],
                    data=jnp.zeros((1,)), latent=jnp.zeros((1,)))


def assert_tree_close(a, b, **kw):
    jax.tree_util.tree_map(lambda u, v: np.testing.assert_allclose(u, v, **kw), a, b)


@pytest.mark.parametrize("name", sorted(DIRAC_DISTANCES))
def test_builder_reproduces_dirac_gan_field(name):
    built, ref = dirac_builder(name), dirac_gan(name)
    for th, w in [(0.7, -0.3), (-1.2, 0.9), (0.0, 0.5)]:
        p = Players(jnp.float32(th), jnp.float32(w))
        assert_tree_close(built.field(p), ref.field(p), rtol=1e-6, atol=1e-7)


def test_js_dirac_field_by_hand():
    """L = −log 2 − softplus(wθ): F = (∂_θ L, −∂_w L) = (−w σ(wθ), θ σ(wθ))."""
    th, w = 0.8, -1.5
    f = dirac_builder("js").field(Players(jnp.float32(th), jnp.float32(w)))
    s = 1.0 / (1.0 + np.exp(-w * th))
    np.testing.assert_allclose([f.min, f.max], [-w * s, th * s], rtol=1e-6)


def test_projection_clips_only_the_critic():
    game = dirac_builder("wasserstein")
    p = game.projection(Players(jnp.float32(5.0), jnp.float32(-3.0)))
    assert float(p.min) == 5.0 and float(p.max) == pytest.approx(-0.01)
    assert dirac_builder("js").projection is None


LINEAR_GEN = lambda th, z: z @ th["W"] + th["b"]
LINEAR_CRITIC = lambda w, x: x @ w["v"] + w["c"]


def linear_params(key):
    k = jax.random.split(key, 4)
    return Players({"W": jax.random.normal(k[0], (2, 2)), "b": jax.random.normal(k[1], (2,))},
                   {"v": jax.random.normal(k[2], (2,)), "c": jax.random.normal(k[3], ())})


def test_empirical_risk_fixes_latents_population_resamples():
    data = jax.random.normal(KEY, (16, 2)) + 2.0
    p = linear_params(jax.random.PRNGKey(1))
    z_hat = normal_latent(8, 2)(jax.random.PRNGKey(2))
    empirical = gan_game(LINEAR_GEN, LINEAR_CRITIC, DISTANCES["js"], data, z_hat)
    population = gan_game(LINEAR_GEN, LINEAR_CRITIC, DISTANCES["js"], data, normal_latent(8, 2))
    k1, k2 = jax.random.PRNGKey(3), jax.random.PRNGKey(4)
    emp, pop = jax.jit(empirical.value), jax.jit(population.value)
    assert float(emp(p, k1)) == float(emp(p, k2)) == float(emp(p, None))
    fake_out = LINEAR_CRITIC(p.max, LINEAR_GEN(p.min, z_hat))
    np.testing.assert_allclose(emp(p, None), DISTANCES["js"].generator_loss(LINEAR_CRITIC(p.max, data), fake_out),
                               rtol=1e-6)
    assert float(pop(p, k1)) != float(pop(p, k2))
    with pytest.raises(ValueError, match="PRNG key"):
        population.value(p)


def test_data_sampler_and_regularizers_enter_only_the_critic_loss():
    seen = {}

    def reg(critic_apply, w, real, fake, key):
        seen["shapes"] = (real.shape, fake.shape, key.shape)
        return 0.5 * jnp.sum(w["v"] ** 2) + 0.0 * jnp.sum(critic_apply(w, real))

    sampler = lambda key: jax.random.normal(key, (5, 2))
    p = linear_params(jax.random.PRNGKey(5))
    plain = gan_game(LINEAR_GEN, LINEAR_CRITIC, DISTANCES["js"], sampler, normal_latent(3, 2))
    regd = gan_game(LINEAR_GEN, LINEAR_CRITIC, DISTANCES["js"], sampler, normal_latent(3, 2), regularizers=[reg])
    f0, f1 = jax.jit(plain.field)(p, KEY), jax.jit(regd.field)(p, KEY)
    assert_tree_close(f1.min, f0.min, rtol=1e-6)
    np.testing.assert_allclose(f1.max["v"], f0.max["v"] + p.max["v"], rtol=1e-5)
    assert seen["shapes"][:2] == ((5, 2), (3, 2))


def test_distance_regularizers_are_added():
    """WGAN-GP with a linear critic f(x) = v·x + c: ∇_x f = v everywhere, so the penalty is
    10(‖v‖ − 1)² and adds 20(‖v‖ − 1) v/‖v‖ to the critic's field."""
    data = jax.random.normal(KEY, (6, 2))
    z_hat = normal_latent(6, 2)(jax.random.PRNGKey(9))
    p = linear_params(jax.random.PRNGKey(10))
    f_gp = jax.jit(gan_game(LINEAR_GEN, LINEAR_CRITIC, DISTANCES["wgan_gp"], data, z_hat).field)(p, KEY)
    f_zi = jax.jit(gan_game(LINEAR_GEN, LINEAR_CRITIC, DISTANCES["zero_infinity"], data, z_hat).field)(p, KEY)
    v = np.asarray(p.max["v"])
    norm = np.linalg.norm(v)
    np.testing.assert_allclose(f_gp.max["v"], f_zi.max["v"] + 20 * (norm - 1) * v / norm, rtol=1e-5)
    assert_tree_close(f_gp.min, f_zi.min, rtol=1e-6)
    with pytest.raises(ValueError, match="PRNG key"):
        gan_game(LINEAR_GEN, LINEAR_CRITIC, DISTANCES["wgan_gp"], data, z_hat).field(p)


def test_linen_nnx_and_plain_models_give_the_same_field():
    data = jax.random.normal(KEY, (10, 2))
    z_hat = normal_latent(6, 2)(jax.random.PRNGKey(6))
    p = linear_params(jax.random.PRNGKey(7))
    ref = jax.jit(gan_game(LINEAR_GEN, LINEAR_CRITIC, DISTANCES["js"], data, z_hat).field)(p)

    gen, critic = nn.Dense(2), MLPCritic(widths=())
    linen_p = Players({"params": {"kernel": p.min["W"], "bias": p.min["b"]}},
                      {"params": {"Dense_0": {"kernel": p.max["v"][:, None], "bias": p.max["c"][None]}}})
    f = jax.jit(gan_game(gen.apply, critic.apply, DISTANCES["js"], data, z_hat).field)(linen_p)
    np.testing.assert_allclose(f.min["params"]["kernel"], ref.min["W"], rtol=1e-5)
    np.testing.assert_allclose(f.max["params"]["Dense_0"]["kernel"][:, 0], ref.max["v"], rtol=1e-5)

    class Critic(nnx.Module):
        def __init__(self, rngs):
            self.lin = nnx.Linear(2, 1, rngs=rngs)

        def __call__(self, x):
            return self.lin(x)[:, 0]

    g_mod, c_mod = nnx.Linear(2, 2, rngs=nnx.Rngs(0)), Critic(nnx.Rngs(1))
    g_mod.kernel.set_value(p.min["W"])
    g_mod.bias.set_value(p.min["b"])
    c_mod.lin.kernel.set_value(p.max["v"][:, None])
    c_mod.lin.bias.set_value(p.max["c"][None])
    (g_apply, g_params), (c_apply, c_params) = nnx_model(g_mod), nnx_model(c_mod)
    f = jax.jit(gan_game(g_apply, c_apply, DISTANCES["js"], data, z_hat).field)(Players(g_params, c_params))
    np.testing.assert_allclose(f.min["kernel"][...], ref.min["W"], rtol=1e-5)
    np.testing.assert_allclose(f.min["bias"][...], ref.min["b"], rtol=1e-5)
    np.testing.assert_allclose(f.max["lin"]["kernel"][...][:, 0], ref.max["v"], rtol=1e-5)


def test_discriminator_free_objective():
    data = jax.random.normal(KEY, (12, 2)) + 3.0
    z_hat = normal_latent(12, 2)(jax.random.PRNGKey(8))
    game = gan_game(LINEAR_GEN, None, lambda real, fake, key: mmd2(real, fake), data, z_hat)
    p = Players(linear_params(KEY).min, ())
    f = jax.jit(game.field)(p)
    assert f.max == ()
    assert_tree_close(f.min, jax.jit(jax.grad(lambda th: mmd2(data, LINEAR_GEN(th, z_hat))))(p.min), rtol=1e-5)
    with pytest.raises(ValueError, match="critic_apply=None"):
        gan_game(LINEAR_GEN, LINEAR_CRITIC, lambda r, f, k: mmd2(r, f), data, z_hat)


def test_energy_distance_training_moves_generator_to_the_data():
    """GMMN-style: G_θ(z) = z + θ with fresh z and data N(3, 1) in 1-D; energy-distance descent → θ ≈ 3."""
    data = lambda key: 3.0 + jax.random.normal(key, (64, 1))
    game = gan_game(lambda th, z: z + th, None, lambda r, f, k: energy_distance(r, f), data, normal_latent(64, 1))
    out = jax.jit(lambda p, k: train.run(game, simultaneous(optax.sgd(0.5)), p, k, steps=200))(
        Players(jnp.zeros(()), ()), KEY)
    assert abs(float(out.params.min) - 3.0) < 0.3


def test_init_players_and_mlp_gan_trains():
    latent = normal_latent(16, 2)
    gen, critic = MLPGenerator(data_shape=(2,), widths=(8,)), MLPCritic(widths=(8,))
    p = init_players(gen, critic, KEY, latent)
    assert set(p.min["params"]) == {"Dense_0", "Dense_1"} and p.max["params"]["Dense_1"]["kernel"].shape == (8, 1)
    assert init_players(gen, None, KEY, latent).max == ()
    data = jax.random.normal(KEY, (32, 2)) + jnp.array([2.0, -1.0])
    game = gan_game(gen.apply, critic.apply, DISTANCES["js"], data, latent,
                    sample_init=lambda k: init_players(gen, critic, k, latent))
    out = jax.jit(lambda k: train.run(game, simultaneous(optax.sgd(1e-2)), game.sample_init(k), k, steps=5))(KEY)
    assert not bool(out.diverged) and np.all(np.isfinite(out.trajectory["loss"]))
    with pytest.raises(TypeError, match="nnx_model"):
        init_players(lambda p, z: z, critic, KEY, latent)


def test_mmd_gan_with_feature_critic():
    gen, critic = MLPGenerator(widths=(8,)), MLPCritic(widths=(8,), features=4)
    latent = normal_latent(8, 2)
    p = init_players(gen, critic, KEY, latent)
    game = gan_game(gen.apply, critic.apply, mmd_gan(), jax.random.normal(KEY, (8, 2)), latent)
    ev = jax.jit(lambda g, p: g.evaluate(p, KEY))(game, p)
    assert all(np.all(np.isfinite(x)) for x in jax.tree_util.tree_leaves(ev.field))
    np.testing.assert_allclose(ev.loss_max, -ev.loss_min, rtol=1e-6)


def test_builder_errors():
    with pytest.raises(TypeError, match="critic_apply"):
        gan_game(LINEAR_GEN, None, DISTANCES["js"], jnp.zeros((2, 2)), jnp.zeros((2, 2)))
    with pytest.raises(ValueError, match="leading batch axis"):
        gan_game(LINEAR_GEN, LINEAR_CRITIC, DISTANCES["js"], jnp.float32(1.0), jnp.zeros((2, 2)))
    with pytest.raises(ValueError, match="sample shape"):
        gan_game(LINEAR_GEN, LINEAR_CRITIC, DISTANCES["js"], jnp.zeros((4, 3)), jnp.zeros((4, 2))).field(
            linear_params(KEY))
    with pytest.raises(TypeError, match="Distance or a callable"):
        gan_game(LINEAR_GEN, None, "js", jnp.zeros((2, 2)), jnp.zeros((2, 2)))
