"""Saddle-point update rules as optax transformations.

Every rule consumes the descent field F (see :mod:`minimax.game`) as optax consumes
gradients, and wraps an ``inner`` optax transformation (``optax.sgd(η)``,
``optax.adam(η)``, :func:`timescaled` for two-timescale rules). The contract they share
(``field_fn``, ``draw``, ``projection``) is described in :mod:`minimax.updates.base`.

================================  =====================================================
rule                              module
================================  =====================================================
simultaneous GDA                  :func:`simultaneous`          (``updates/gda.py``)
alternating GDA, M steps          :func:`alternating`           (``updates/gda.py``)
extragradient / Extra-Adam        :func:`extragradient`         (``updates/extragradient.py``)
EG+                               ``extragradient(update_scale=β)``
optimistic GDA / Adam             :func:`optimistic`            (``updates/optimistic.py``)
two-timescale Λ_τ                 :func:`two_timescale`, :func:`timescaled` (``updates/timescale.py``)
stiffness-adaptive step           :func:`scale_by_stiffness`, :func:`stiffness_sgd`,
                                  :func:`refresh_stiffness`     (``updates/stiffness.py``)
iterate averaging                 :func:`averaging`             (``updates/averaging.py``)
projection                        :func:`project`, :func:`box`, :func:`ball` (``updates/projection.py``)
field transforms                  :func:`minimax.fields.with_field_transform` (``fields.py``)
consensus / SGA / Hamiltonian     :func:`consensus_optimization`, :func:`symplectic_gradient_adjustment`,
                                  :func:`hamiltonian_descent`   (``updates/adjusted.py``)
CGD, adaptive CGD                 :func:`cgd`, :func:`acgd`     (``updates/competitive.py``)
Follow-the-Ridge                  :func:`follow_the_ridge`      (``updates/ridge.py``)
unrolled critics                  :func:`unrolled`              (``updates/unrolled.py``)
Lookahead-minmax                  :func:`lookahead`             (``updates/lookahead.py``)
EAG, FEG (anchored)               :func:`extra_anchored_gradient`, :func:`fast_extragradient`
                                  (``updates/anchored.py``)
Krylov solves, HVPs               :mod:`minimax.updates.krylov`
================================  =====================================================

The second-order rules (``cgd``, ``acgd``, ``ftr``, ``unrolled``, the adjusted fields) take
Jacobian-vector products of ``field_fn``; none forms a dense matrix.
"""
from functools import partial

from minimax.updates.adjusted import consensus_optimization, hamiltonian_descent, symplectic_gradient_adjustment
from minimax.updates.anchored import AnchoredState, extra_anchored_gradient, fast_extragradient
from minimax.updates.averaging import AveragingState, averaged_params, averaging
from minimax.updates.competitive import ACGDState, acgd, cgd
from minimax.updates.extragradient import ExtragradientState, extragradient
from minimax.updates.gda import ORDERS, AlternatingState, alternating, simultaneous
from minimax.updates.lookahead import LookaheadState, lookahead
from minimax.updates.optimistic import OptimismState, optimistic, scale_by_optimism
from minimax.updates.projection import Ball, Box, OnPlayer, ball, box, on_max_player, on_min_player, project
from minimax.updates.ridge import follow_the_ridge
from minimax.updates.stiffness import StiffnessState, refresh_stiffness, scale_by_stiffness, stiffness_sgd
from minimax.updates.timescale import ScalePlayersState, scale_players, timescaled, two_timescale
from minimax.updates.unrolled import unrolled

#: Named rules, each a factory ``inner -> GradientTransformationExtraArgs``. The CLI's
#: ``--methods`` and the contract test suite iterate over this registry. Each entry with
#: ``inner = optax.sgd(η)`` is its paper's method with step η (the second-order rules read
#: their step sizes from ``inner``). Defaults: cgd/acgd GMRES (tol 1e-5, 20 iterations; acgd
#: b2 = 0.99, ε = 1e-8), sga λ = 1, conopt γ = 1, lookahead k = 5, α = 0.5 (around GDA, and
#: around EG), feg ρ = 0, ftr CG (tol 1e-5, 20 iterations, no damping), unrolled k = 5.
RULES = {
    "gda": simultaneous,
    "alt_gda": alternating,
    "alt_gda5": partial(alternating, max_steps=5),
    "alt_gda_gen_first": partial(alternating, order="generator_first"),
    "eg": extragradient,
    "eg_plus": partial(extragradient, update_scale=0.5),
    "ogda": optimistic,
    "eg_avg": lambda inner: averaging(extragradient(inner)),
    "cgd": cgd,
    "acgd": acgd,
    "sga": symplectic_gradient_adjustment,
    "conopt": consensus_optimization,
    "hgd": hamiltonian_descent,
    "lookahead": lambda inner: lookahead(simultaneous(inner)),
    "lookahead_eg": lambda inner: lookahead(extragradient(inner)),
    "eag": extra_anchored_gradient,
    "feg": fast_extragradient,
    "ftr": follow_the_ridge,
    "unrolled": unrolled,
}


def rule(name: str, inner):
    """The registered rule ``name`` around ``inner``; a clear error for unknown names."""
    if name not in RULES:
        raise ValueError(f"unknown update rule {name!r}; expected one of {sorted(RULES)}")
    return RULES[name](inner)


__all__ = [
    "RULES", "rule", "simultaneous", "alternating", "AlternatingState", "ORDERS", "extragradient",
    "ExtragradientState", "optimistic", "scale_by_optimism", "OptimismState", "scale_players", "ScalePlayersState",
    "two_timescale", "timescaled", "averaging", "averaged_params", "AveragingState", "project", "box", "ball",
    "Box", "Ball", "OnPlayer", "on_max_player", "on_min_player", "cgd", "acgd", "ACGDState",
    "consensus_optimization", "symplectic_gradient_adjustment", "hamiltonian_descent", "lookahead", "LookaheadState",
    "extra_anchored_gradient", "fast_extragradient", "AnchoredState", "follow_the_ridge", "unrolled",
    "scale_by_stiffness", "stiffness_sgd", "refresh_stiffness", "StiffnessState",
]
