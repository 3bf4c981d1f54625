"""Unrolled critics: the generator descends its loss after k simulated critic steps."""
from __future__ import annotations

import jax
from jax import lax
import optax

from minimax import validation
from minimax.game import Players
from minimax.updates.base import require_field_fn, require_params, step_to

_zeros = optax.tree_utils.tree_zeros_like


def unrolled(inner: optax.GradientTransformation, unroll_steps: int = 5, *,
             remat: bool = False) -> optax.GradientTransformationExtraArgs:
    """Unrolled GAN: the generator's field is the gradient of its loss through k unrolled critic steps.

        w_0 = w_k,   w_{m+1} = P(w_m + inner_w(F_w(θ_k, w_m))),   m = 0..k−1   (simulated)
        g_θ = d/dθ L(θ, w_K(θ)) |_{θ_k} = F_θ(θ_k, w_K) − (∂w_K/∂θ)ᵀ F_w(θ_k, w_K)
        update = inner((g_θ, F_w(p_k)))

    The critic itself takes its ordinary step (the first unrolled one); only the generator
    sees the unrolled critic. The simulated steps use the inner transformation from its current
    state (the critic's own optimizer; the state they reach is discarded), with the generator's
    field set to zero, and ∂w_K/∂θ is differentiated through them by reverse mode (``jax.vjp``
    of the unroll, a ``lax.scan``). With ``remat`` each unrolled step is ``jax.checkpoint``ed:
    the backward pass recomputes its internals instead of storing them, so memory grows with k
    only by one critic (and optimizer state) per step.

    With k = 0 this is GDA, inner(F(p_k)). With inner = sgd(η) and k = 1 on the bilinear game
    sθw (h = ηs): w_1 = w + ηsθ, g_θ = s w + 2ηs²θ, and the linearized map [[1 − 2h², −h], [h, 1]]
    has spectral radius √(1 − h²) (GDA: √(1 + h²)); for k steps, [[1 − 2kh², −h], [h, 1]] with
    radius √(1 − (2k − 1)h²) while kh <= 1.

    The response of the generator's loss to the critic, ∂_w L_θ, is taken as −F_w (= ∂_w L),
    which is exact for zero-sum games (the setting of Metz et al.); for a general-sum game
    (e.g. the non-saturating GAN) the descent field does not contain ∂_w L_θ, and the rule
    unrolls the zero-sum surrogate whose critic loss is the game's.

    Args:
      inner: the optax transformation of the real step and of the simulated critic steps.
      unroll_steps: k >= 0 (static).
      remat: checkpoint each unrolled step (static).

    Requires the keyword extra argument ``field_fn``. The state is the inner transformation's.

    Reference: Metz, Poole, Pfau, Sohl-Dickstein, "Unrolled generative adversarial networks",
    ICLR 2017.
    """
    validation.positive_int("unrolled", "unroll_steps", unroll_steps, minimum=0)
    inner = optax.with_extra_args_support(inner)

    def update(field, state, params=None, *, field_fn=None, projection=None, **extra):
        require_params(params, "unrolled", field)
        require_field_fn(field_fn, "unrolled")
        kw = dict(extra, field_fn=field_fn, projection=projection)
        if unroll_steps == 0:
            return inner.update(field, state, params, **kw)

        def critic_step(carry, _):
            p, s = carry
            f = field_fn(p)
            u, s = inner.update(Players(_zeros(f.min), f.max), s, p, **kw)
            return (step_to(p, Players(_zeros(p.min), u.max), projection), s), None

        step = jax.checkpoint(critic_step) if remat else critic_step

        def unroll(theta):
            (p, _), _ = lax.scan(step, (Players(theta, params.max), state), None, length=unroll_steps)
            return p.max

        w_k, pullback = jax.vjp(unroll, params.min)
        f_k = field_fn(Players(params.min, w_k))
        g_min = optax.tree_utils.tree_sub(f_k.min, pullback(f_k.max)[0])
        return inner.update(Players(g_min, field.max), state, params, **kw)

    return optax.GradientTransformationExtraArgs(inner.init, update)
