"""Follow-the-Ridge (FTR): gradient descent–ascent with the follower tracking its best response."""
from __future__ import annotations

import optax

from minimax.game import Players
from minimax.updates.base import check_positive, require_field_fn, require_params
from minimax.updates.krylov import check_solver, player_jvp, solve


def follow_the_ridge(inner: optax.GradientTransformation, *, damping=0.0, solver: str = "cg", tol=1e-5,
                     max_steps: int = 20) -> optax.GradientTransformationExtraArgs:
    """Follow-the-Ridge: the max player (follower) adds the move of its ridge w*(θ) to its own step.

        u = inner(F(p_k)),   Δθ = u_θ,
        Δw = u_w − (J_ww + δI)⁻¹ J_wθ Δθ,   J_ww = ∂F_w/∂w,  J_wθ = ∂F_w/∂θ,

    since the ridge F_w(θ, w*(θ)) = 0 moves by dw* = −J_ww⁻¹ J_wθ dθ. For a zero-sum game
    (J_ww = −∇²_ww L, J_wθ = −∇²_wθ L) and inner = sgd: θ⁺ = θ − η_θ ∇_θ L,
    w⁺ = w + η_w ∇_w L + η_θ (∇²_ww L)⁻¹ ∇²_wθ L ∇_θ L (Wang, Zhang & Ba, eq. (4)); the two step
    sizes come from the inner transformation (``timescaled(sgd(η), τ)``: η_θ = η/τ, η_w = η),
    and the correction always follows the leader's actual step Δθ (with Adam too).

    J_ww is the Hessian of the follower's loss, symmetric, and positive definite near a strict
    local minimax point, so the solve uses conjugate gradients by default (``solver="cg"``);
    J_ww v and J_wθ v are Hessian-vector products (``jax.linearize`` of ``field_fn``). Where J_ww
    is singular or indefinite (far from a local minimax point), ``damping`` δ > 0 regularizes
    the solve (δ = 0 is the paper's method; "gmres" handles an indefinite J_ww).

    On the quadratic game L = −(a/2)θ² + bθw − (c/2)w² (``minimax.games.quadratic``) the
    linearized map of FTR with sgd(η) has the eigenvalues 1 − ηc and 1 − η(b²/c − a): those of
    the follower's curvature and of the leader's Schur complement; it converges for small η at
    every local minimax point, where GDA (τ = 1) does not.

    Args:
      inner: the optax transformation giving the base step u (sgd(η) for FTR).
      damping: δ >= 0 added to J_ww (traceable).
      solver: "cg" (default), "gmres" or "bicgstab".
      tol: relative residual of the solve (traceable).
      max_steps: iteration cap of the solve (static).

    Requires the keyword extra argument ``field_fn``. The state is the inner transformation's.

    Reference: Wang, Zhang, Ba, "On solving minimax optimization locally: a follow-the-ridge
    approach", ICLR 2020.
    """
    check_solver("follow_the_ridge", solver, tol, max_steps)
    check_positive("damping", damping, strict=False, rule="follow_the_ridge")
    inner = optax.with_extra_args_support(inner)

    def update(field, state, params=None, *, field_fn=None, projection=None, **extra):
        require_params(params, "follow_the_ridge", field)
        require_field_fn(field_fn, "follow_the_ridge")
        u, state = inner.update(field, state, params, **dict(extra, field_fn=field_fn, projection=projection))
        _, j_wt = player_jvp(field_fn, params, "min", "max")
        _, j_ww = player_jvp(field_fn, params, "max", "max")
        op = lambda v: optax.tree_utils.tree_add_scale(j_ww(v), damping, v)
        ridge = solve(op, j_wt(u.min), solver=solver, tol=tol, max_steps=max_steps)
        return Players(u.min, optax.tree_utils.tree_sub(u.max, ridge)), state

    return optax.GradientTransformationExtraArgs(inner.init, update)
