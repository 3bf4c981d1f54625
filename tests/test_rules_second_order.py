"""CGD, ACGD, Follow-the-Ridge, unrolled critics and the adjusted-field rules against closed forms
derived by hand and dense references written from the papers' equations."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from minimax import fields, games, train, update_map_jacobian, updates
from minimax.game import Players
from rule_checks import GENERAL_SUM, P0, ZERO_SUM, blocks, close, dense_cgd_step, radii, run_steps

BILINEAR = games.bilinear()
F, P_STAR = BILINEAR.field_fn(), BILINEAR.equilibrium
tt = updates.timescaled


# --- competitive gradient descent ----------------------------------------------------------

ETAS = np.array([0.1, 0.5, 1.5])


@pytest.mark.parametrize("solver", ["cg", "gmres"])
def test_cgd_linearized_map_on_the_bilinear_game(solver):
    """f = xy, F = (y, −x), J_θw = 1, J_wθ = −1: Δx = −η(y + ηx)/(1 + η²), Δy = η(x − ηy)/(1 + η²), so
    T = [[1, −η], [η, 1]]/(1 + η²) with eigenvalues (1 ± iη)/(1 + η²) and spectral radius 1/√(1 + η²)."""
    jac = lambda eta: update_map_jacobian(updates.cgd(optax.sgd(eta), solver=solver), F, P_STAR)
    jacs = jax.jit(jax.vmap(jac))(ETAS)
    for eta, jac in zip(ETAS, np.asarray(jacs)):
        np.testing.assert_allclose(jac, np.array([[1, -eta], [eta, 1]]) / (1 + eta**2), atol=1e-6)
        np.testing.assert_allclose(np.abs(np.linalg.eigvals(jac)).max(), 1 / np.sqrt(1 + eta**2), rtol=1e-5)


def test_two_timescale_cgd_reads_both_step_sizes_from_the_inner_transformation():
    """Steps a = η/τ (θ), b = η (w): T = [[1, −a], [b, 1]]/(1 + ab), radius 1/√(1 + η²/τ)."""
    eta, taus = 0.8, np.array([1.0, 4.0, 9.0])
    rho = radii(lambda tau: updates.cgd(tt(optax.sgd(eta), tau), solver="cg"), taus, F, P_STAR)
    np.testing.assert_allclose(rho, 1 / np.sqrt(1 + eta**2 / taus), rtol=1e-5)
    np.testing.assert_allclose(rho, games.rotation_spectral_radius("cgd", eta / np.sqrt(taus)), rtol=1e-5)


@pytest.mark.parametrize("game,solver", [(ZERO_SUM, "cg"), (GENERAL_SUM, "gmres")])
def test_cgd_step_equals_the_dense_general_sum_formula(game, solver):
    """Δθ = −η(I − η²J_θwJ_wθ)⁻¹(F_θ − ηJ_θwF_w), Δw = −η(I − η²J_wθJ_θw)⁻¹(F_w − ηJ_wθF_θ): both players
    solved for densely; the rule solves for θ and takes the critic's reaction."""
    eta, f = 0.4, game.field_fn()
    rule = updates.cgd(optax.sgd(eta), solver=solver, tol=1e-7)
    close(run_steps(rule, f, P0, 1)[0], optax.apply_updates(P0, dense_cgd_step(f, P0, eta, eta)), rtol=1e-4)


def test_cgd_zero_sum_is_the_papers_zero_sum_update():
    """Zero-sum (D = D²L): Δθ = −η(I + η²D_θwD_wθ)⁻¹(∇_θL + ηD_θw∇_wL), Δw = η(I + η²D_wθD_θw)⁻¹(∇_wL − ηD_wθ∇_θL)."""
    eta, f = 0.7, ZERO_SUM.field_fn()
    g = jax.grad(lambda p: ZERO_SUM.loss(p))(P0)
    d_tw = jax.jacfwd(lambda w: jax.grad(lambda t: ZERO_SUM.loss(Players(t, w)))(P0.min))(P0.max)
    d_wt = d_tw.T
    eye = np.eye(2)
    expected = Players(-eta * np.linalg.solve(eye + eta**2 * d_tw @ d_wt, g.min + eta * d_tw @ g.max),
                       eta * np.linalg.solve(eye + eta**2 * d_wt @ d_tw, g.max - eta * d_wt @ g.min))
    rule = updates.cgd(optax.sgd(eta), solver="cg", tol=1e-7)
    close(run_steps(rule, f, P0, 1)[0], optax.apply_updates(P0, expected), rtol=1e-4)


def test_cgd_with_an_explicit_learning_rate_hands_the_anticipating_field_to_the_inner():
    """With learning_rate = η the inner receives d = −Δ_CGD(η)/η: sgd(1) steps by −d, Adam normalizes d."""
    eta, f = 0.3, GENERAL_SUM.field_fn()
    rule = updates.cgd(optax.sgd(1.0), learning_rate=eta, solver="bicgstab", tol=1e-7)
    d = jax.tree_util.tree_map(lambda x: -x / eta, dense_cgd_step(f, P0, eta, eta))
    close(run_steps(rule, f, P0, 1)[0], jax.tree_util.tree_map(lambda p, x: p - x, P0, d), rtol=1e-4)
    p1, state = run_steps(updates.cgd(optax.adam(0.01), learning_rate=eta, solver="bicgstab"), f, P0, 1)
    steps = jax.tree_util.tree_map(lambda a, b: a - b, p1, P0)
    close(steps, jax.tree_util.tree_map(lambda x: -0.01 * np.sign(x), d), rtol=1e-3)  # Adam's first step: −lr·sign(d)
    assert int(state[0].count) == 1


def _dense_acgd(game, p, steps, eta, b2, eps):
    """Algorithm 1 of Schäfer, Zheng & Anandkumar written out densely: ν ← b2ν + (1 − b2)F², H = η/(√ν̂ + ε)."""
    f = game.field_fn()
    nu = jax.tree_util.tree_map(jnp.zeros_like, p)
    for k in range(1, steps + 1):
        g = f(p)
        nu = jax.tree_util.tree_map(lambda v, x: b2 * v + (1 - b2) * x**2, nu, g)
        h = jax.tree_util.tree_map(lambda v: eta / (np.sqrt(v / (1 - b2**k)) + eps), nu)
        p = optax.apply_updates(p, dense_cgd_step(f, p, np.asarray(h.min), np.asarray(h.max)))
    return p


@pytest.mark.parametrize("game,solver", [(ZERO_SUM, "cg"), (GENERAL_SUM, "gmres")])
def test_acgd_is_cgd_with_rmsprop_step_sizes(game, solver):
    eta, b2, eps = 0.05, 0.9, 1e-8
    rule = updates.acgd(optax.sgd(eta), b2=b2, eps=eps, solver=solver, tol=1e-7)
    p, state = run_steps(rule, game.field_fn(), P0, 3)
    close(p, _dense_acgd(game, P0, 3, eta, b2, eps), rtol=1e-4, atol=1e-6)
    assert int(state.count) == 3


def test_cgd_and_acgd_converge_on_the_bilinear_game_where_gda_diverges():
    p0 = Players(jnp.array(1.0), jnp.array(0.5))
    norm = lambda rule: float(optax.tree_utils.tree_norm(run_steps(rule, F, p0, 200)[0]))
    assert norm(updates.cgd(optax.sgd(0.3), solver="cg")) < 1e-3          # ρ = 1/√1.09 = 0.958 per step
    assert norm(updates.acgd(optax.sgd(0.2), solver="cg")) < 1e-3
    assert norm(updates.simultaneous(optax.sgd(0.3))) > 10   # ρ = √1.09 = 1.044


# --- Follow-the-Ridge ------------------------------------------------------------------------

@pytest.mark.parametrize("a,b,c", [(2.0, 2.0, 1.0), (1.0, 3.0, 2.0)])
@pytest.mark.parametrize("tau", [1.0, 4.0])
def test_ftr_linearized_map_on_the_quadratic_local_minimax_game(a, b, c, tau):
    """L = −(a/2)x² + bxy − (c/2)y²: F = (−ax + by, −bx + cy), J_ww = c, J_wθ = −b. FTR with steps η/τ, η:
    Δx = −(η/τ)F_x, Δy = −ηF_y + (b/c)Δx, so T = I − η[[1/τ, 0], [b/(cτ), 1]]J, block triangular in the
    ridge coordinates: eigenvalues 1 − ηc (follower) and 1 − (η/τ)(b²/c − a) (leader's Schur complement)."""
    eta = 0.2
    q = games.quadratic(a=a, b=b, c=c)
    jac = jax.jit(lambda g: update_map_jacobian(updates.follow_the_ridge(tt(optax.sgd(eta), tau)), g.field_fn(),
                                                g.equilibrium))(q)
    expected = sorted([1 - eta * c, 1 - eta / tau * (b * b / c - a)])
    np.testing.assert_allclose(sorted(np.linalg.eigvals(jac).real), expected, atol=1e-6)


def test_ftr_converges_at_tau_one_where_gda_does_not():
    """Wang, Zhang & Ba: FTR converges locally to every strict local minimax point with equal step sizes;
    at games.quadratic(2, 2, 1) the origin is one but not a local Nash point, and GDA at τ = 1 leaves it."""
    q = games.quadratic(a=2.0, b=2.0, c=1.0)
    p0 = Players(jnp.array(0.5), jnp.array(-0.3))
    final = lambda rule: float(train.run(q, rule, p0, jax.random.PRNGKey(0), steps=100).trajectory["distance"][-1])
    assert final(updates.follow_the_ridge(optax.sgd(0.2))) < 1e-6    # radius max(|1 − η|, |1 − 2η|) = 0.8
    assert final(updates.simultaneous(optax.sgd(0.2))) > 1.0


@pytest.mark.parametrize("damping", [0.0, 0.3])
def test_ftr_step_equals_the_dense_equation(damping):
    """Δθ = −ηF_θ, Δw = −ηF_w − (J_ww + δI)⁻¹J_wθΔθ (general-sum: J_ww is the critic's Hessian)."""
    eta, f = 0.1, GENERAL_SUM.field_fn()
    f_t, f_w, _, _, j_wt, j_ww = blocks(f, P0)
    d_t = -eta * f_t
    expected = Players(d_t, -eta * f_w - np.linalg.solve(j_ww + damping * np.eye(2), j_wt @ d_t))
    rule = updates.follow_the_ridge(optax.sgd(eta), damping=damping, tol=1e-7)
    close(run_steps(rule, f, P0, 1)[0], optax.apply_updates(P0, expected), rtol=1e-5)


# --- unrolled critics ----------------------------------------------------------------------

def test_unrolled_with_zero_steps_is_gda():
    f = ZERO_SUM.field_fn()
    for inner in (optax.sgd(0.1), optax.adam(0.01)):
        close(run_steps(updates.unrolled(inner, 0), f, P0, 3)[0], run_steps(updates.simultaneous(inner), f, P0, 3)[0])


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("remat", [False, True])
def test_unrolled_generator_step_is_the_gradient_through_a_hand_written_unroll(k, remat):
    """w_{m+1} = w_m + η∇_wL(θ, w_m) (k times, by hand), θ⁺ = θ − η d/dθ L(θ, w_k(θ)), w⁺ = w + η∇_wL(θ, w)."""
    eta, loss = 0.1, ZERO_SUM.loss

    def w_k(theta):
        w = P0.max
        for _ in range(k):
            w = w + eta * jax.grad(lambda w_: loss(Players(theta, w_)))(w)
        return w

    theta = P0.min - eta * jax.grad(lambda t: loss(Players(t, w_k(t))))(P0.min)
    w = P0.max + eta * jax.grad(lambda w_: loss(Players(P0.min, w_)))(P0.max)
    rule = updates.unrolled(optax.sgd(eta), k, remat=remat)
    close(run_steps(rule, ZERO_SUM.field_fn(), P0, 1)[0], Players(theta, w), rtol=1e-5)


@pytest.mark.parametrize("k", [1, 2, 5])
def test_unrolled_linearized_map_on_the_bilinear_game(k):
    """xy with steps a = η/τ, b = η: w_k = w + kbx, g_x = w + 2kbx, T = [[1 − 2kab, −a], [b, 1]]: trace
    2 − 2kh², det 1 − (2k − 1)h², h² = ab = η²/τ (see rotation_spectral_radius("unrolled"))."""
    eta, taus = 0.4, np.array([0.25, 1.0, 4.0])
    expected = [np.abs(np.linalg.eigvals(np.array([[1 - 2 * k * eta**2 / t, -eta / t], [eta, 1]]))).max() for t in taus]
    rho = radii(lambda tau: updates.unrolled(tt(optax.sgd(eta), tau), k), taus, F, P_STAR)
    np.testing.assert_allclose(rho, expected, rtol=1e-5)
    np.testing.assert_allclose(games.rotation_spectral_radius("unrolled", eta / np.sqrt(taus), unroll_steps=k),
                               expected, rtol=1e-5)


# --- consensus, SGA, Hamiltonian descent (fields.py) ---------------------------------------

def test_adjusted_field_radii_on_the_bilinear_game():
    """F = Jp, J = [[0, 1], [−1, 0]], JᵀJ = I, A = J: consensus and SGA both give GD on (J + wI)p, radius
    √((1 − ηw)² + η²); Hamiltonian descent GD on p, |1 − η|."""
    eta, weights = 0.4, np.array([0.5, 1.0, 3.0])
    expected = np.sqrt((1 - eta * weights) ** 2 + eta**2)
    np.testing.assert_allclose(radii(lambda w: updates.consensus_optimization(optax.sgd(eta), w), weights, F, P_STAR),
                               expected, rtol=1e-5)
    np.testing.assert_allclose(radii(lambda w: updates.symplectic_gradient_adjustment(optax.sgd(eta), w), weights, F,
                                     P_STAR), expected, rtol=1e-5)
    etas = np.array([0.1, 0.4, 1.5])
    np.testing.assert_allclose(radii(lambda e: updates.hamiltonian_descent(optax.sgd(e)), etas, F, P_STAR),
                               np.abs(1 - etas), rtol=1e-5)
    for name in ("conopt", "sga", "hgd"):
        np.testing.assert_allclose(radii(lambda e: updates.rule(name, optax.sgd(e)), etas, F, P_STAR),
                                   games.rotation_spectral_radius(name, etas), rtol=1e-5)


@pytest.mark.parametrize("name", ["conopt", "hgd", "lookahead", "unrolled"])
def test_rotation_closed_forms_hold_on_the_js_dirac_gan_with_two_timescales(name):
    """The Dirac GAN (JS) linearizes to a rotation of slope s = 1/2 at p*; with Λ_τ the h-only entries take
    h = ηs/√τ and the adjusted fields take s and τ apart. Lookahead's closed form is per cycle of 5 steps."""
    g = games.dirac_gan("js")
    eta, tau, s = 0.6, 3.0, 0.5
    steps = 5 if name.startswith("lookahead") else 1
    got = radii(lambda t: updates.rule(name, tt(optax.sgd(eta), t)), [tau], g.field_fn(), g.equilibrium, steps=steps)
    np.testing.assert_allclose(got, games.rotation_spectral_radius(name, eta * s / np.sqrt(tau), s=s, tau=tau),
                               rtol=1e-4)


def test_field_transform_in_the_run_is_the_registered_rule():
    """train.run(field_transform=consensus(γ)) around GDA and the "conopt" rule make the same trajectory."""
    g, p0, key = games.dirac_gan("js"), Players(jnp.array(1.0), jnp.array(-0.5)), jax.random.PRNGKey(0)
    a = train.run(g, updates.simultaneous(optax.sgd(0.3)), p0, key, steps=20, field_transform=fields.consensus(1.0))
    b = train.run(g, updates.rule("conopt", optax.sgd(0.3)), p0, key, steps=20)
    close(a.params, b.params)


def test_sga_alignment_flips_the_sign_near_an_unstable_fixed_point():
    """F = Mp, M = σI + R, R = [[0, 1], [−1, 0]]: A = R, AᵀF = (σRᵀ + I)p, ∇H = MᵀMp = (σ² + 1)p. At
    p = (1, 0) (d = 2) ⟨F, ∇H⟩⟨AᵀF, ∇H⟩/d = σ(σ² + 1)²/2, so with ε = 0.1 λ keeps its sign for σ = 1
    (a stable fixed point) and flips for σ = −1 (an unstable one)."""
    rot = jnp.array([[0.0, 1.0], [-1.0, 0.0]])
    p = Players(jnp.array(1.0), jnp.array(0.0))
    for sigma, sign in [(1.0, 1.0), (-1.0, -1.0)]:
        mat = sigma * jnp.eye(2) + rot
        field = lambda q: Players(*(mat @ jnp.stack([q.min, q.max])))
        at_f = rot.T @ (mat @ jnp.array([1.0, 0.0]))  # A = J's antisymmetric part = rot
        expected = mat @ jnp.array([1.0, 0.0]) + sign * 2.0 * at_f
        got = fields.sga(2.0)(field)(p)
        np.testing.assert_allclose([got.min, got.max], expected, rtol=1e-6)
        unaligned = fields.sga(2.0, align=False)(field)(p)
        np.testing.assert_allclose([unaligned.min, unaligned.max], mat @ jnp.array([1.0, 0.0]) + 2.0 * at_f, rtol=1e-6)
