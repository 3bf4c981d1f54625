"""Default models: shapes, output ranges, and the nnx adapter."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from minimax.models import ConvCritic, ConvGenerator, MLPCritic, MLPGenerator, activation, nnx_model

KEY = jax.random.PRNGKey(0)


def init_apply(module, x):
    return jax.jit(lambda x: module.apply(module.init(KEY, x), x))(x)


@pytest.mark.parametrize("out_activation,lo,hi", [("tanh", -1, 1), ("sigmoid", 0, 1), (None, -np.inf, np.inf)])
def test_mlp_generator_shape_and_range(out_activation, lo, hi):
    z = 10.0 * jax.random.normal(KEY, (6, 3))
    out = init_apply(MLPGenerator(data_shape=(4, 5), widths=(16,), out_activation=out_activation), z)
    assert out.shape == (6, 4, 5)
    assert np.all((out >= lo) & (out <= hi))


def test_mlp_critic_scores_and_features():
    x = jnp.ones((7, 4, 4, 1))
    assert init_apply(MLPCritic(widths=(8, 8)), x).shape == (7,)
    assert init_apply(MLPCritic(widths=(8,), features=3), x).shape == (7, 3)


@pytest.mark.parametrize("size", [28, 32])
def test_conv_model_shapes(size):
    gen = ConvGenerator(image_shape=(size, size, 1), features_base=4)
    img = jax.eval_shape(lambda z: gen.init_with_output(KEY, z)[0], jnp.ones((2, 8)))
    assert img.shape == (2, size, size, 1)
    for features, shape in ((None, (2,)), (5, (2, 5))):
        critic = ConvCritic(features_base=4, features=features)
        assert jax.eval_shape(lambda x: critic.init_with_output(KEY, x)[0], img).shape == shape


def test_conv_generator_output_range():
    gen, critic = ConvGenerator(features_base=4), ConvCritic(features_base=4)

    @jax.jit
    def run(z):
        img = gen.apply(gen.init(KEY, z), z)
        return img, critic.apply(critic.init(KEY, img), img)

    img, scores = run(3.0 * jax.random.normal(KEY, (2, 8)))
    assert np.all(np.abs(img) <= 1) and np.all(np.isfinite(scores))


def test_conv_generator_rejects_sizes_not_divisible_by_4():
    with pytest.raises(ValueError, match="divisible by 4"):
        ConvGenerator(image_shape=(30, 30, 1)).init(KEY, jnp.ones((1, 4)))


def test_activation_names():
    assert activation("tanh") is jnp.tanh
    assert activation(None)(3.0) == 3.0
    with pytest.raises(ValueError, match="unknown activation"):
        activation("swish!")


def test_nnx_model_apply_matches_module():
    module = nnx.Sequential(nnx.Linear(3, 5, rngs=nnx.Rngs(0)), nnx.relu, nnx.Linear(5, 2, rngs=nnx.Rngs(1)))
    apply, params = nnx_model(module)
    x = jax.random.normal(KEY, (4, 3))
    np.testing.assert_allclose(jax.jit(apply)(params, x), module(x), rtol=1e-6)
    doubled = jax.tree_util.tree_map(lambda p: 2 * p, params)
    assert not np.allclose(apply(doubled, x), module(x))
    with pytest.raises(TypeError, match="nnx"):
        nnx_model(MLPCritic())


def test_nnx_model_with_batch_norm_and_dropout_runs_under_jit_grad_and_vmap():
    """BatchNorm in training mode normalizes each batch (output mean 0, variance ≈ 1 per feature);
    the module's own state is not mutated across calls, so jitted and eager calls agree."""
    import jax
    import jax.numpy as jnp

    class Net(nnx.Module):
        def __init__(self, rngs):
            self.lin = nnx.Linear(3, 4, rngs=rngs)
            self.bn = nnx.BatchNorm(4, rngs=rngs)
            self.drop = nnx.Dropout(0.5, rngs=rngs)

        def __call__(self, x):
            return self.drop(self.bn(self.lin(x)))

    apply, params = nnx_model(Net(nnx.Rngs(0)))
    x = jax.random.normal(jax.random.PRNGKey(1), (64, 3))
    eager, jitted = apply(params, x), jax.jit(apply)(params, x)
    np.testing.assert_allclose(jitted, eager, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(jax.jit(apply)(params, x), jitted)  # the same mask every call
    kept = np.asarray(jitted) != 0
    assert 0.3 < kept.mean() < 0.7  # dropout at rate 0.5
    bn_apply, bn_params = nnx_model(nnx.BatchNorm(3, rngs=nnx.Rngs(0)))
    out = np.asarray(jax.jit(bn_apply)(bn_params, 3.0 * x + 1.0))
    np.testing.assert_allclose(out.mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.var(0), 1.0, rtol=1e-3)
    grads = jax.jit(jax.grad(lambda p: jnp.sum(apply(p, x) ** 2)))(params)
    assert all(np.all(np.isfinite(g)) for g in jax.tree_util.tree_leaves(grads))
    batched = jax.vmap(apply, in_axes=(None, 0))(params, x.reshape(4, 16, 3))
    assert batched.shape == (4, 16, 4)
