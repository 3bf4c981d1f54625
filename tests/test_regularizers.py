"""Critic regularizers against critics whose input gradients are known."""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minimax.losses import gradient_penalty, one_sided_gradient_penalty, r1_penalty, r2_penalty

KEY = jax.random.PRNGKey(0)
SHAPE = (6, 2, 3)  # batches of 2×3 "images": norms are over all non-batch axes


def linear_critic(w, x):
    """f(x) = ⟨a, x⟩ + b per sample: ∇_x f = a everywhere."""
    return jnp.sum(x * w["a"], axis=tuple(range(1, x.ndim))) + w["b"]


@functools.lru_cache(maxsize=None)
def penalties():
    """All four critic penalties of the linear critic, as one jitted function of (a, real, fake, key)."""
    def f(a, real, fake, key):
        w = {"a": a, "b": jnp.float32(0.7)}
        return jnp.stack([r(linear_critic, w, real, fake, key, weight=3.0)
                          for r in (gradient_penalty, one_sided_gradient_penalty, r1_penalty, r2_penalty)])
    return jax.jit(f)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31 - 1), st.floats(0.05, 3.0))
def test_penalties_of_a_linear_critic(seed, slope):
    """∇_x f ≡ a: GP = λ(‖a‖ − 1)², one-sided λ·max(0, ‖a‖ − 1)², R1 = R2 = (γ/2)‖a‖²; GP = 0 at ‖a‖ = 1."""
    k1, k2, k3, k4 = jax.random.split(jax.random.PRNGKey(seed), 4)
    direction = jax.random.normal(k1, SHAPE[1:])
    real, fake = jax.random.normal(k2, SHAPE), 5.0 + jax.random.normal(k3, SHAPE)
    unit = direction / jnp.linalg.norm(direction)
    gp, one_sided, r1, r2 = np.asarray(penalties()(slope * unit, real, fake, k4), np.float64)
    np.testing.assert_allclose([gp, one_sided, r1, r2],
                               [3.0 * (slope - 1) ** 2, 3.0 * max(0.0, slope - 1) ** 2, 1.5 * slope**2, 1.5 * slope**2],
                               rtol=1e-4, atol=1e-5)
    at_unit_slope = np.asarray(penalties()(unit, real, fake, k4))
    np.testing.assert_allclose(at_unit_slope[:2], 0.0, atol=1e-5)


def test_r1_is_zero_at_a_critic_with_zero_input_gradient_and_reads_only_real_samples():
    flat = lambda w, x: w * jnp.sum(0.0 * x, axis=1) + w  # depends on w, not on x
    real, fake = jax.random.normal(KEY, (5, 3)), jnp.ones((5, 3))
    assert float(r1_penalty(flat, jnp.float32(2.0), real, fake)) == 0.0
    assert float(r2_penalty(flat, jnp.float32(2.0), real, fake)) == 0.0
    # R1 on the critic f(x) = ½‖x‖² is (γ/2)·E‖x‖² on real samples, whatever the fake ones.
    quad = lambda w, x: 0.5 * w * jnp.sum(x**2, axis=1)
    expected = 5.0 * np.mean(np.sum(np.asarray(real) ** 2, axis=1))
    for other in (fake, 10 * fake):
        np.testing.assert_allclose(r1_penalty(quad, 1.0, real, other, weight=10.0), expected, rtol=1e-5)
    np.testing.assert_allclose(r2_penalty(quad, 1.0, fake, real, weight=10.0), expected, rtol=1e-5)


def test_gradient_penalty_interpolates_uniformly_between_real_and_fake():
    """Critic ½x² in 1-D, real 1, fake 0: x̂ = ε, ‖∇‖ = ε, so GP = λ·E(1 − ε)² → λ/3 for ε ~ U[0, 1]."""
    quad = lambda w, x: 0.5 * w * x**2
    n = 20_000
    gp = gradient_penalty(quad, 1.0, jnp.ones(n), jnp.zeros(n), KEY, weight=1.0)
    np.testing.assert_allclose(gp, 1.0 / 3.0, atol=0.01)
    # Equal real and fake samples: x̂ = x whatever ε, GP = λ(‖x‖ − 1)² exactly.
    x = jnp.array([0.5, 2.0, -3.0])
    np.testing.assert_allclose(gradient_penalty(quad, 1.0, x, x, KEY, weight=2.0),
                               2.0 * np.mean((np.abs([0.5, 2.0, -3.0]) - 1) ** 2), rtol=1e-6)


def test_penalties_have_finite_parameter_gradients_at_zero_input_gradient():
    """‖∇_x f‖ = 0 is where √· has an infinite slope; the penalties' gradients in w stay finite."""
    real, fake = jnp.ones((4, 2)), jnp.zeros((4, 2))
    for reg in (gradient_penalty, one_sided_gradient_penalty, r1_penalty, r2_penalty):
        g = jax.grad(lambda a: reg(linear_critic, {"a": a, "b": 0.0}, real, fake, KEY))(jnp.zeros(2))
        assert np.all(np.isfinite(g)), reg.__name__


def test_penalties_are_traceable_in_their_weight():
    real, fake = jnp.ones((4, 2)), jnp.zeros((4, 2))
    w = {"a": jnp.array([2.0, 0.0]), "b": 0.0}
    sweep = jax.vmap(lambda lam: gradient_penalty(linear_critic, w, real, fake, KEY, weight=lam))(jnp.array([1.0, 4.0]))
    np.testing.assert_allclose(sweep, [1.0, 4.0], rtol=1e-6)


def test_regularizers_reject_bad_inputs():
    w = {"a": jnp.ones(2), "b": 0.0}
    with pytest.raises(ValueError, match="same shape"):
        gradient_penalty(linear_critic, w, jnp.ones((4, 2)), jnp.ones((3, 2)), KEY)
    with pytest.raises(ValueError, match="PRNG key"):
        gradient_penalty(linear_critic, w, jnp.ones((4, 2)), jnp.ones((4, 2)), None)
    with pytest.raises(ValueError, match="one output per sample"):
        r1_penalty(lambda w, x: x, w, jnp.ones((4, 2)), None)
    with pytest.raises(ValueError, match="batch axis"):
        r1_penalty(linear_critic, w, jnp.float32(1.0), None)
