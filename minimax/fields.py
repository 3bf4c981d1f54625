"""Field transforms: new descent fields made from a game's field F, placed between game and rule.

A field transform maps a field function to another, ``transform(field_fn) -> field_fn``, with
``field_fn(params, **kw) -> Players`` (keywords such as ``draw`` pass through). It applies at
every evaluation an update rule makes (EG's extrapolation included). Give it to
:func:`minimax.train.run` (``field_transform=``) or wrap a rule with
:func:`with_field_transform` (then its hyperparameters can be traced in a sweep).

With J = ∂F(p) (the game Jacobian), products come from autodiff, never a dense J:
J v by ``jax.jvp`` and Jᵀ v by ``jax.vjp`` of ``field_fn``.

* :func:`consensus`:   F + γ Jᵀ F = F + γ ∇(½‖F‖²)      (Mescheder et al., NeurIPS 2017)
* :func:`sga`:         F + λ Aᵀ F, A = (J − Jᵀ)/2       (Balduzzi et al., ICML 2018)
* :func:`hamiltonian`: Jᵀ F = ∇(½‖F‖²)                  (Balduzzi et al. 2018; Abernethy,
  Lai, Wibisono 2019; Loizou et al. 2020)
"""
from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import optax

tree_map = jax.tree_util.tree_map


def _jacobian_products(field_fn: Callable, params, kw, *, transpose: bool = True, forward: bool = False):
    """F(p) and, as asked, Jᵀ F (vjp) and J F (jvp) at ``params``."""
    fn = lambda p: field_fn(p, **kw)
    value, vjp = jax.vjp(fn, params)
    jt_f = vjp(value)[0] if transpose else None
    j_f = jax.jvp(fn, (params,), (value,))[1] if forward else None
    return value, jt_f, j_f


def consensus(gamma) -> Callable:
    """Consensus optimization: F_γ(p) = F(p) + γ·Jᵀ(p) F(p) = F(p) + γ·∇_p ½‖F(p)‖².

    Each player descends its own loss plus γ·½‖F‖². On the unit bilinear game (F = Jp with
    J = [[0, 1], [−1, 0]]) GD on F_γ has the linear map (1 − ηγ)I − ηJ, spectral radius
    √((1 − ηγ)² + η²). ``gamma`` may be traced.

    Reference: Mescheder, Nowozin, Geiger, "The numerics of GANs", NeurIPS 2017.
    """
    def transform(field_fn):
        def regularized(params, **kw):
            value, jt_f, _ = _jacobian_products(field_fn, params, kw)
            return tree_map(lambda a, b: a + gamma * b, value, jt_f)
        return regularized
    transform.__name__ = "consensus"
    return transform


def sga(lam=1.0, *, align: bool = True, epsilon: float = 0.1) -> Callable:
    """Symplectic gradient adjustment: F_λ = F + λ·Aᵀ F, A = (J − Jᵀ)/2 the antisymmetric part of J.

    Aᵀ F = ½(Jᵀ F − J F). With ``align`` the sign of λ follows Balduzzi et al.'s alignment
    criterion, λ ← |λ|·sign(⟨F, ∇H⟩⟨AᵀF, ∇H⟩/d + ε), ∇H = Jᵀ F, d the number of
    parameters: the adjustment then points toward stable fixed points and away from
    unstable ones. On the unit bilinear game F = Jp with J antisymmetric, so A = J,
    Aᵀ F = JᵀJp = p and ⟨F, ∇H⟩ = 0 (λ keeps its sign): GD on F_λ has the linear map
    (1 − ηλ)I − ηJ, spectral radius √((1 − ηλ)² + η²).
    ``lam`` may be traced.

    Reference: Balduzzi et al., "The mechanics of n-player differentiable games", ICML
    2018, Algorithm 1 (ε = 0.1).
    """
    def transform(field_fn):
        def adjusted(params, **kw):
            value, jt_f, j_f = _jacobian_products(field_fn, params, kw, forward=True)
            at_f = tree_map(lambda a, b: 0.5 * (a - b), jt_f, j_f)
            weight = lam
            if align:
                dot = lambda a, b: optax.tree_utils.tree_vdot(a, b)
                d = sum(x.size for x in jax.tree_util.tree_leaves(params))
                weight = jnp.abs(lam) * jnp.sign(dot(value, jt_f) * dot(at_f, jt_f) / d + epsilon)
            return tree_map(lambda a, b: a + weight * b, value, at_f)
        return adjusted
    transform.__name__ = "sga"
    return transform


def hamiltonian() -> Callable:
    """The Hamiltonian field ∇H = Jᵀ F, H(p) = ½‖F(p)‖²: any rule on it descends H.

    Gradient descent on it is Hamiltonian gradient descent. On the unit bilinear game
    ∇H = JᵀJp = p, so GD contracts by |1 − η|.

    References: Balduzzi et al., ICML 2018; Abernethy, Lai, Wibisono, "Last-iterate
    convergence rates for min-max optimization", 2019; Loizou et al., "Stochastic
    Hamiltonian gradient methods for smooth games", ICML 2020.
    """
    def transform(field_fn):
        def grad_h(params, **kw):
            return _jacobian_products(field_fn, params, kw)[1]
        return grad_h
    transform.__name__ = "hamiltonian"
    return transform


def checked(transform: Callable, field_fn: Callable) -> Callable:
    """``transform(field_fn)``, checking at trace time that it returns a tree shaped like the params."""
    name = getattr(transform, "__name__", repr(transform))
    if not callable(transform):
        raise TypeError(f"field transform must be callable (field_fn -> field_fn), got {type(transform).__name__}")
    new = transform(field_fn)
    if not callable(new):
        raise TypeError(f"field transform {name!r} must return a field function, got {type(new).__name__}")

    def fn(params, **kw):
        out = new(params, **kw)
        want = jax.tree_util.tree_structure(params)
        got = jax.tree_util.tree_structure(out)
        shapes = lambda t: [jnp.shape(x) for x in jax.tree_util.tree_leaves(t)]
        if got != want or shapes(out) != shapes(params):
            raise TypeError(f"field transform {name!r} returned a tree of structure {got} with shapes {shapes(out)}; "
                            f"expected the parameters' structure {want} with shapes {shapes(params)}")
        return out
    return fn


def with_field_transform(rule: optax.GradientTransformation, transform: Callable) -> optax.GradientTransformationExtraArgs:
    """``rule`` fed by the transformed field: F′ = transform(F) at p_k and at every ``field_fn`` call.

    ``with_field_transform(simultaneous(optax.sgd(η)), consensus(γ))`` is consensus
    optimization. The field passed to ``update`` is discarded and F′(p_k) is evaluated
    from ``field_fn`` (a transform needs F around p_k, not only its value), so ``field_fn``
    is required.
    """
    from minimax.updates.base import require_field_fn

    rule = optax.with_extra_args_support(rule)

    def update(field, state, params=None, *, field_fn=None, **extra):
        require_field_fn(field_fn, f"field transform {getattr(transform, '__name__', '')!r}")
        new_fn = checked(transform, field_fn)
        return rule.update(new_fn(params), state, params, field_fn=new_fn, **extra)

    return optax.GradientTransformationExtraArgs(rule.init, update)
