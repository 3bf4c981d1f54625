"""The descent field F(p) = (∇_θ L_θ, ∇_w L_w) against hand-computed gradients."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from minimax import Game, Players, descent_field, games


def test_zero_sum_field_negates_the_max_players_gradient():
    # L = θ² w + 3w, ∇_θ L = 2θw, ∇_w L = θ² + 3, so F = (2θw, −θ² − 3).
    F = descent_field(lambda p: p.min**2 * p.max + 3 * p.max)
    f = F(Players(jnp.array(2.0), jnp.array(-1.5)))
    np.testing.assert_allclose([f.min, f.max], [2 * 2 * -1.5, -(4 + 3)])


def test_general_sum_field_uses_each_players_own_loss():
    # L_θ = (θ − w)², L_w = w⁴ θ: F = (2(θ − w), 4w³θ).
    F = descent_field(lambda p: (p.min - p.max) ** 2, lambda p: p.max**4 * p.min)
    f = F(Players(jnp.array(3.0), jnp.array(2.0)))
    np.testing.assert_allclose([f.min, f.max], [2.0, 4 * 8 * 3.0])


def test_has_aux_returns_the_aux_of_each_loss():
    zero_sum = descent_field(lambda p: (p.min * p.max, {"v": p.min}), has_aux=True)
    f, aux = zero_sum(Players(jnp.array(2.0), jnp.array(5.0)))
    np.testing.assert_allclose([f.min, f.max, aux["v"]], [5.0, -2.0, 2.0])
    general = descent_field(lambda p: (p.min**2, 1.0), lambda p: (p.max**2, 2.0), has_aux=True)
    f, aux = general(Players(jnp.array(1.0), jnp.array(3.0)))
    np.testing.assert_allclose([f.min, f.max], [2.0, 6.0])
    assert aux == (1.0, 2.0)


def test_pytree_players_and_extra_arguments_pass_through():
    loss = lambda p, scale: scale * jnp.sum(p.min["a"] * p.max[0])
    F = descent_field(loss)
    p = Players({"a": jnp.arange(3.0)}, [jnp.ones(3)])
    f = F(p, 2.0)
    np.testing.assert_allclose(f.min["a"], 2 * np.ones(3))
    np.testing.assert_allclose(f.max[0], -2 * np.arange(3.0))


def test_value_and_grad_evaluation_returns_both_losses():
    # general-sum: L_θ = θ²w, L_w = (w − θ)²: F = (2θw, 2(w − θ))
    g = Game(loss=lambda p, key, args, state: p.min**2 * p.max,
             max_loss=lambda p, key, args, state: (p.max - p.min) ** 2)
    ev = g.evaluate(Players(jnp.array(2.0), jnp.array(-1.0)))
    np.testing.assert_allclose([ev.field.min, ev.field.max, ev.loss_min, ev.loss_max], [-4.0, -6.0, -4.0, 9.0])
    zero_sum = games.bilinear()
    ev = zero_sum.evaluate(Players(jnp.array(2.0), jnp.array(3.0)))
    np.testing.assert_allclose([ev.loss_min, ev.loss_max], [6.0, -6.0])


def test_a_game_is_a_pytree_whose_arrays_are_traced_arguments():
    """jit of a function of a game compiles once for two matrices of one shape, and the matrix is
    not a constant of the program (its size does not grow the lowered module)."""
    traces = []

    @jax.jit
    def field_at(game, p):
        traces.append(1)
        return game.field(p)

    p = Players(jnp.ones(3), jnp.ones(3))
    a, b = games.bilinear(jnp.eye(3)), games.bilinear(2 * jnp.eye(3))
    fa, fb = field_at(a, p), field_at(b, p)
    assert len(traces) == 1
    np.testing.assert_allclose(fb.min, 2 * fa.min)
    big = games.bilinear(jax.random.normal(jax.random.PRNGKey(0), (300, 300)))
    text = jax.jit(lambda g, p: g.field(p)).lower(big, Players(jnp.ones(300), jnp.ones(300))).as_text()
    assert len(text) < 20_000  # 300×300 floats as a constant would be ≥ 360 kB of text
    # vmap over a batch of games (datasets): one matrix per member
    stacked = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), a, b)
    fs = jax.vmap(lambda g: g.field(p))(stacked)
    np.testing.assert_allclose(fs.min[1], fb.min)


def test_stochastic_game_field_depends_on_the_key_and_is_deterministic_for_one():
    g = games.translation_gan()
    p = g.sample_init(jax.random.PRNGKey(0))
    k1, k2 = jax.random.PRNGKey(1), jax.random.PRNGKey(2)
    f1, f1b, f2 = g.field(p, k1), g.field(p, k1), g.field(p, k2)
    assert jnp.array_equal(f1.min, f1b.min) and jnp.array_equal(f1.max, f1b.max)
    assert not jnp.allclose(f1.max, f2.max)
    with pytest.raises(ValueError, match="PRNG key"):
        g.field(p, None)


def test_game_field_fn_drops_aux_and_value_reads_the_loss():
    g = Game(loss=lambda p, key, args, state: (p.min * p.max, "aux"), has_aux=True)
    p = Players(jnp.array(2.0), jnp.array(3.0))
    f = g.field_fn()(p)
    assert isinstance(f, Players) and float(f.min) == 3.0 and float(f.max) == -2.0
    assert float(g.value(p)) == 6.0


def test_field_fn_draws_fresh_minibatches_by_folding_the_key():
    g = games.translation_gan()
    p = g.sample_init(jax.random.PRNGKey(0))
    key = jax.random.PRNGKey(1)
    fn = g.field_fn(key)
    assert jnp.array_equal(fn(p).max, g.field(p, key).max)
    assert jnp.array_equal(fn(p, draw=2).max, g.field(p, jax.random.fold_in(key, 2)).max)
    assert not jnp.allclose(fn(p, draw=1).max, fn(p).max)


def test_non_callable_loss_is_rejected():
    with pytest.raises(TypeError, match="loss"):
        descent_field(3.0)
    with pytest.raises(TypeError, match="loss"):
        Game(loss=None)
    with pytest.raises(ValueError, match="init_state"):
        Game(loss=lambda *a: 0.0, update_state=lambda *a: None)
    with pytest.raises(TypeError, match="max_loss"):
        descent_field(lambda p: 0.0, "nope")
