"""Lookahead-minmax: slow weights that average the last k steps of any rule, for both players at once."""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from minimax import validation
from minimax.updates.base import check_positive, require_params, scalar_at, step_to


class LookaheadState(NamedTuple):
    rule_state: optax.OptState
    slow: optax.Params  # φ, the slow weights (both players)
    count: jax.Array    # steps taken


def lookahead(rule: optax.GradientTransformation, *, sync_period: int = 5,
              alpha=0.5) -> optax.GradientTransformationExtraArgs:
    """Lookahead-minmax around ``rule``: k fast steps, then the slow weights move toward the fast ones.

        p̃ = P(p_t + rule(F(p_t)))                          (a fast step)
        every k-th step (t + 1 ≡ 0 mod k):  φ ← φ + α (p̃ − φ),  p_{t+1} = φ
        otherwise:                          p_{t+1} = p̃

    φ starts at p_0; both players share the synchronization (Lookahead-*minmax*). The
    wrapped rule's state carries on across synchronizations (it is not reset), and it receives
    the extra arguments (``field_fn``, ``projection``). With a convex constraint set φ stays
    in it (a convex combination of feasible points).

    On a linear field, one cycle of k steps of a rule with linear map T is
    φ ↦ (I + α(T^k − I)) φ: around GDA on the unit bilinear game (eigenvalues 1 ± iη of T) the
    spectral radius per cycle is |1 + α((1 + iη)^k − 1)|, below 1 for suitable α and k where
    GDA itself diverges.

    Args:
      rule: any update rule or optax transformation (``simultaneous(optax.sgd(η))`` is
        LA-GDA, ``extragradient(...)`` LA-ExtraGrad, ``simultaneous(optax.adam(η))`` LA-Adam).
      sync_period: k >= 1, static.
      alpha: α in (0, 1], a number (traceable) or an ``optax.Schedule`` of the step count.

    Reference: Chavdarova et al., "Taming GANs with Lookahead-Minmax", ICLR 2021
    (Zhang et al., "Lookahead optimizer: k steps forward, 1 step back", NeurIPS 2019).
    """
    validation.positive_int("lookahead", "sync_period", sync_period)
    check_positive("alpha", alpha, rule="lookahead")
    rule = optax.with_extra_args_support(rule)

    def init(params):
        return LookaheadState(rule.init(params), params, jnp.zeros([], jnp.int32))

    def update(field, state, params=None, *, projection=None, **extra):
        require_params(params, "lookahead", field)
        u, rule_state = rule.update(field, state.rule_state, params, projection=projection, **extra)
        fast = step_to(params, u, projection)
        count = optax.safe_increment(state.count)
        a = scalar_at(alpha, state.count)
        synced = jax.tree_util.tree_map(lambda s, f: s + a * (f - s), state.slow, fast)
        sync = count % sync_period == 0
        new = optax.tree_utils.tree_where(sync, synced, fast)
        slow = optax.tree_utils.tree_where(sync, synced, state.slow)
        return optax.tree_utils.tree_sub(new, params), LookaheadState(rule_state, slow, count)

    return optax.GradientTransformationExtraArgs(init, update)
