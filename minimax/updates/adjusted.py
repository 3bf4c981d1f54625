"""GDA on an adjusted field: consensus optimization, SGA and Hamiltonian gradient descent as rules.

Each is ``with_field_transform(simultaneous(inner), transform)`` with a transform of
:mod:`minimax.fields`: named factories whose weights are arguments, so that they are registry
entries, can be traced in a sweep and wrapped by ``optax.inject_hyperparams``. On the unit
bilinear game with sgd(η) (F = Jp, J = [[0, 1], [−1, 0]], JᵀJ = I) the linearized maps are
(1 − ηγ)I − ηJ for consensus (spectral radius √((1 − ηγ)² + η²)), (1 − ηλ)I − ηJ for SGA
(√((1 − ηλ)² + η²)), and (1 − η)I for Hamiltonian descent (|1 − η|).
"""
from __future__ import annotations

import optax

from minimax import fields
from minimax.updates.gda import simultaneous


def consensus_optimization(inner: optax.GradientTransformation, gamma=1.0) -> optax.GradientTransformationExtraArgs:
    """Consensus optimization: GDA on F + γ Jᵀ F, p_{k+1} = p_k + inner(F(p_k) + γ ∇½‖F(p_k)‖²).

    ``gamma`` γ >= 0 is traceable. Mescheder et al. use γ = 10 with RMSProp on GANs; with
    sgd(η) on the unit rotation the step is stable for η < 2γ/(1 + γ²), widest at the default
    γ = 1 (η < 1). Requires ``field_fn``.

    Reference: Mescheder, Nowozin, Geiger, "The numerics of GANs", NeurIPS 2017.
    """
    return fields.with_field_transform(simultaneous(inner), fields.consensus(gamma))


def symplectic_gradient_adjustment(inner: optax.GradientTransformation, lam=1.0, *,
                                   align: bool = True) -> optax.GradientTransformationExtraArgs:
    """Symplectic gradient adjustment: GDA on F + λ Aᵀ F, A = (J − Jᵀ)/2 (:func:`minimax.fields.sga`).

    ``lam`` λ is traceable; with ``align`` its sign follows Balduzzi et al.'s alignment
    criterion. Requires ``field_fn``.

    Reference: Balduzzi et al., "The mechanics of n-player differentiable games", ICML 2018.
    """
    return fields.with_field_transform(simultaneous(inner), fields.sga(lam, align=align))


def hamiltonian_descent(inner: optax.GradientTransformation) -> optax.GradientTransformationExtraArgs:
    """Hamiltonian gradient descent: p_{k+1} = p_k + inner(Jᵀ F(p_k)), descent on H = ½‖F‖².

    Requires ``field_fn``.

    References: Balduzzi et al., ICML 2018; Abernethy, Lai, Wibisono, "Last-iterate convergence
    rates for min-max optimization", 2019; Loizou et al., "Stochastic Hamiltonian gradient
    methods for smooth games", ICML 2020.
    """
    return fields.with_field_transform(simultaneous(inner), fields.hamiltonian())
