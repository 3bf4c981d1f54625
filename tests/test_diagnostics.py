"""Spectral radii from differentiating one step of each rule, against closed forms."""
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from minimax import field_eigenvalues, field_jacobian, games, spectral_radius, update_map_jacobian, updates

BILINEAR = games.bilinear()
P_STAR = BILINEAR.equilibrium
F = BILINEAR.field_fn()


def tt(tau, eta):
    return optax.chain(updates.two_timescale(tau), optax.sgd(eta))


def test_bilinear_field_jacobian_is_a_rotation():
    # L = xy: F = (y, −x).
    np.testing.assert_allclose(field_jacobian(F, P_STAR), [[0, 1], [-1, 0]])
    np.testing.assert_allclose(sorted(np.imag(field_eigenvalues(F, P_STAR))), [-1, 1], atol=1e-7)


@pytest.mark.parametrize("eta", [0.05, 0.3, 0.9])
def test_gda_and_eg_spectral_radii_on_bilinear(eta):
    np.testing.assert_allclose(spectral_radius(updates.simultaneous(optax.sgd(eta)), F, P_STAR),
                               np.sqrt(1 + eta**2), rtol=1e-6)
    np.testing.assert_allclose(spectral_radius(updates.extragradient(optax.sgd(eta)), F, P_STAR),
                               np.sqrt(1 - eta**2 + eta**4), rtol=1e-6)


@pytest.mark.parametrize("eta,tau", [(0.1, 2.0), (0.5, 5.0), (1.5, 10.0)])
def test_two_timescale_eg_spectral_radius_on_bilinear(eta, tau):
    rule = updates.extragradient(tt(tau, eta))
    np.testing.assert_allclose(spectral_radius(rule, F, P_STAR), np.sqrt(1 - eta**2 / tau + eta**4 / tau**2), rtol=1e-6)


def test_matrix_bilinear_gda_radius_uses_the_largest_singular_value():
    A = jnp.array([[2.0, 0.5, 0.0], [0.0, 1.0, -0.3], [0.4, 0.0, 0.7]])
    g = games.bilinear(A)
    smax = np.linalg.svd(np.asarray(A), compute_uv=False).max()
    eta = 0.2
    np.testing.assert_allclose(spectral_radius(optax.sgd(eta), g.field_fn(), g.equilibrium),
                               np.sqrt(1 + eta**2 * smax**2), rtol=1e-5)


def test_alternating_gda_radius_is_one_below_h_two_and_above_one_beyond():
    assert abs(float(spectral_radius(updates.alternating(optax.sgd(1.5)), F, P_STAR)) - 1) < 1e-6
    assert float(spectral_radius(updates.alternating(optax.sgd(2.5)), F, P_STAR)) > 1.5


@pytest.mark.parametrize("eta", [0.1, 0.4])
def test_optimistic_gda_joint_map_matches_the_companion_matrix(eta):
    # p_{k+1} = p_k − 2ηJp_k + ηJp_{k−1}: the linear map on (p_k, p_{k−1}) written out by hand.
    J = np.array([[0.0, 1.0], [-1.0, 0.0]])
    companion = np.block([[np.eye(2) - 2 * eta * J, eta * J], [np.eye(2), np.zeros((2, 2))]])
    expected = np.abs(np.linalg.eigvals(companion)).max()
    np.testing.assert_allclose(spectral_radius(updates.optimistic(optax.sgd(eta)), F, P_STAR), expected, rtol=1e-5)
    assert update_map_jacobian(updates.optimistic(optax.sgd(eta)), F, P_STAR).shape == (4, 4)


def test_dirac_gan_linearizations_have_slope_one_half_for_js_and_one_otherwise():
    for distance, s in [("js", 0.5), ("wasserstein", 1.0), ("zero_infinity", 1.0)]:
        g = games.dirac_gan(distance)
        np.testing.assert_allclose(np.abs(field_eigenvalues(g.field_fn(), g.equilibrium)), [s, s], rtol=1e-6)
        np.testing.assert_allclose(g.field_fn()(g.equilibrium), [0.0, 0.0], atol=1e-7)


def test_rotation_closed_forms_agree_with_the_differentiated_steps():
    for name, rule in [("gda", updates.simultaneous), ("eg", updates.extragradient), ("alt_gda", updates.alternating)]:
        for eta, tau in [(0.2, 1.0), (0.7, 3.0)]:
            got = spectral_radius(rule(tt(tau, eta)), F, P_STAR)
            np.testing.assert_allclose(got, games.rotation_spectral_radius(name, eta / np.sqrt(tau)), rtol=1e-5)
    assert games.rotation_spectral_radius("ogda", 0.1) is None


def test_quadratic_local_minimax_needs_a_larger_tau_for_gda_than_for_eg():
    q = games.quadratic(a=2.0, b=2.0, c=1.0)  # the flow is stable iff τ > a/c = 2
    Fq, p = q.field_fn(), q.equilibrium
    rho = lambda wrap, tau: float(spectral_radius(wrap(tt(tau, 0.2)), Fq, p))
    gda, eg = updates.simultaneous, updates.extragradient
    assert rho(gda, 1.0) > 1 and rho(eg, 1.0) > 1       # τ = 1: both leave the local minimax point
    assert rho(gda, 2.0) > 1 and rho(eg, 2.0) < 1       # τ = 2: only EG is stable
    assert rho(gda, 1.8) > 1 and rho(eg, 1.8) < 1       # ... EG even a little below the flow threshold
    assert rho(gda, 4.0) < 1 and rho(eg, 4.0) < 1       # τ large: both are stable
    with pytest.raises(ValueError, match="local minimax"):
        games.quadratic(a=1.0, b=0.5, c=1.0)
