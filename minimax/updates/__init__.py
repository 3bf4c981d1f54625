"""Saddle-point update rules as optax transformations.

Every rule consumes the descent field F (see :mod:`minimax.game`) as optax consumes
gradients, and wraps an ``inner`` optax transformation (``optax.sgd(η)``,
``optax.adam(η)``, a chain with :func:`two_timescale` or :func:`project`).

============================  =====================================================
rule                          module
============================  =====================================================
simultaneous GDA              :func:`simultaneous`          (``updates/gda.py``)
alternating GDA, M steps      :func:`alternating`           (``updates/gda.py``)
extragradient / Extra-Adam    :func:`extragradient`         (``updates/extragradient.py``)
EG+                           ``extragradient(update_scale=β)``
optimistic GDA                :func:`optimistic`            (``updates/optimistic.py``)
two-timescale Λ_τ             :func:`two_timescale`, :func:`timescaled` (``updates/timescale.py``)
iterate averaging             :func:`averaging`             (``updates/averaging.py``)
projection                    :func:`project`, :func:`box`, :func:`ball` (``updates/projection.py``)
============================  =====================================================
"""
from functools import partial

from minimax.updates.averaging import AveragingState, averaged_params, averaging
from minimax.updates.extragradient import extragradient
from minimax.updates.gda import AlternatingState, alternating, simultaneous
from minimax.updates.optimistic import OptimismState, optimistic, scale_by_optimism
from minimax.updates.projection import ball, box, on_max_player, on_min_player, project
from minimax.updates.timescale import scale_players, timescaled, two_timescale

#: Named rules, each a factory ``inner -> GradientTransformationExtraArgs``. The CLI's
#: ``--methods`` and the contract test suite iterate over this registry.
RULES = {
    "gda": simultaneous,
    "alt_gda": alternating,
    "alt_gda5": partial(alternating, max_steps=5),
    "eg": extragradient,
    "eg_plus": partial(extragradient, update_scale=0.5),
    "ogda": optimistic,
    "eg_avg": lambda inner: averaging(extragradient(inner)),
}


def rule(name: str, inner):
    """The registered rule ``name`` around ``inner``; a clear error for unknown names."""
    if name not in RULES:
        raise ValueError(f"unknown update rule {name!r}; expected one of {sorted(RULES)}")
    return RULES[name](inner)


__all__ = [
    "RULES", "rule", "simultaneous", "alternating", "AlternatingState", "extragradient",
    "optimistic", "scale_by_optimism", "OptimismState", "scale_players", "two_timescale", "timescaled",
    "averaging", "averaged_params", "AveragingState", "project", "box", "ball",
    "on_max_player", "on_min_player",
]
