"""Field transforms against hand-computed fields on the bilinear game and a general-sum quadratic."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from minimax import Game, Players, fields, games, updates

P = Players(jnp.float32(0.8), jnp.float32(-1.5))


def test_consensus_on_the_bilinear_game():
    """L = xy: F = (y, −x), J = [[0, 1], [−1, 0]], ½‖F‖² = ½(x² + y²),
    F_γ = F + γJᵀF = (y + γx, −x + γy), whose Jacobian has eigenvalues γ ± i (attracting for γ > 0)."""
    field_fn, gamma = games.bilinear().field_fn(), 0.3
    out = fields.consensus(gamma)(field_fn)(P)
    np.testing.assert_allclose([out.min, out.max], [-1.5 + gamma * 0.8, -0.8 + gamma * -1.5], rtol=1e-6)
    flat = lambda v: jnp.stack(fields.consensus(gamma)(field_fn)(Players(v[0], v[1])))
    eig = np.linalg.eigvals(np.asarray(jax.jacfwd(flat)(jnp.zeros(2))))
    np.testing.assert_allclose(sorted(eig, key=np.imag), [gamma - 1j, gamma + 1j], atol=1e-6)


# A general-sum game with a non-normal Jacobian: L_θ = θ²/2 + 2θw, L_w = w²/2 − θw, so
# F = (θ + 2w, w − θ) and J = [[1, 2], [−1, 1]]; S = (J + Jᵀ)/2 = [[1, ½], [½, 1]], A = (J − Jᵀ)/2.
QUAD = Game(loss=lambda p, key, args, state: 0.5 * p.min**2 + 2 * p.min * p.max,
            max_loss=lambda p, key, args, state: 0.5 * p.max**2 - p.min * p.max)
J = np.array([[1.0, 2.0], [-1.0, 1.0]])


def test_hamiltonian_and_sga_fields_by_hand():
    x = np.array([0.8, -1.5])
    f = J @ x
    h = fields.hamiltonian()(QUAD.field_fn())(P)
    np.testing.assert_allclose(np.stack(h), J.T @ f, rtol=1e-6)
    A = 0.5 * (J - J.T)
    lam = 0.7
    plain = fields.sga(lam, align=False)(QUAD.field_fn())(P)
    np.testing.assert_allclose(np.stack(plain), f + lam * A.T @ f, rtol=1e-6)
    # alignment: sign(⟨F, ∇H⟩⟨AᵀF, ∇H⟩/d + ε) with ∇H = JᵀF, d = 2
    grad_h = J.T @ f
    sign = np.sign((f @ grad_h) * ((A.T @ f) @ grad_h) / 2 + 0.1)
    aligned = fields.sga(lam)(QUAD.field_fn())(P)
    np.testing.assert_allclose(np.stack(aligned), f + sign * lam * A.T @ f, rtol=1e-6)


def test_transforms_pass_the_draw_through_and_compose_with_any_rule():
    g = games.translation_gan()
    p = g.sample_init(jax.random.PRNGKey(0))
    fn = g.field_fn(jax.random.PRNGKey(1))
    t = fields.consensus(0.1)(fn)
    assert not np.allclose(t(p).max, t(p, draw=1).max)
    rule = fields.with_field_transform(updates.extragradient(optax.adam(0.01)), fields.consensus(0.1))
    u, _ = rule.update(fn(p), rule.init(p), p, field_fn=fn)
    assert jax.tree_util.tree_structure(u) == jax.tree_util.tree_structure(p)
    with pytest.raises(ValueError, match="field_fn"):
        rule.update(fn(p), rule.init(p), p)
