"""Matrix-free pieces shared by the second-order rules: per-player Jacobian products and Krylov solves.

* :func:`player_jvp` linearizes one player's field in one player's parameters,
  v ↦ ∂F_out/∂p_wrt · v (a Hessian-vector product of that player's loss), by ``jax.linearize``
  of ``field_fn``: never a dense Jacobian, and the unused half of F is dead code to XLA.
* :func:`solve` solves A x = b for a linear ``matvec`` on pytrees with one of
  ``jax.scipy.sparse.linalg``'s Krylov solvers: conjugate gradients for a symmetric positive
  definite A, GMRES or BiCGStab for a general (non-symmetric) one. They are differentiable
  (``lax.custom_linear_solve``: forward and reverse mode, with respect to b and to the arrays
  the operator closes over), vmappable, accept a traced tolerance, and never raise inside a
  compiled program (a solve that stops at the iteration cap returns its last iterate).

Why not lineax: its solves are differentiable too, but the tangent solve of its JVP raises a
runtime error on a Krylov breakdown (e.g. GMRES on a zero tangent), which would abort a jitted
training run or a Jacobian of a step; ``jax.scipy.sparse.linalg`` needs no extra dependency.
"""
from __future__ import annotations

import math
from typing import Callable

import jax
from jax.scipy.sparse import linalg as sparse_linalg

from minimax import validation
from minimax.updates.base import check_positive

#: The Krylov solvers by name: "cg" needs a symmetric positive definite operator.
SOLVERS = ("cg", "gmres", "bicgstab")


def check_solver(rule: str, solver: str, tol, max_steps):
    """Checks a rule's solver arguments: a known solver, a tolerance > 0, a static iteration cap >= 1."""
    if solver not in SOLVERS:
        raise ValueError(f"{rule}: `solver` must be one of {SOLVERS}, got {solver!r}")
    check_positive("tol", tol, rule=rule)
    validation.positive_int(rule, "max_steps", max_steps)


def solve(matvec: Callable, b, *, solver: str, tol, max_steps: int):
    """x ≈ A⁻¹ b from zero, stopping at relative residual ``tol`` or after ``max_steps`` Krylov iterations.

    CG makes at most ``max_steps`` operator applications and BiCGStab twice as many (two per
    iteration); GMRES builds Krylov spaces of min(max_steps, 20) vectors, restarted up to
    ⌈max_steps / 20⌉ times.
    """
    if solver == "cg":
        return sparse_linalg.cg(matvec, b, tol=tol, atol=0.0, maxiter=max_steps)[0]
    if solver == "bicgstab":
        return sparse_linalg.bicgstab(matvec, b, tol=tol, atol=0.0, maxiter=max_steps)[0]
    restart = min(max_steps, 20)
    return sparse_linalg.gmres(matvec, b, tol=tol, atol=0.0, restart=restart,
                               maxiter=math.ceil(max_steps / restart))[0]


def player_jvp(field_fn: Callable, params, wrt: str, out: str):
    """(F_out(p), v ↦ ∂F_out/∂p_wrt · v) at ``params``; ``wrt`` and ``out`` are "min" or "max".

    E.g. ``player_jvp(F, p, "min", "max")`` gives F_w and v ↦ J_wθ v.
    """
    def partial_field(x):
        return getattr(field_fn(params._replace(**{wrt: x})), out)
    return jax.linearize(partial_field, getattr(params, wrt))
