"""A normalizing flow (RealNVP affine couplings) trained by exact maximum likelihood.

Generative map x = f(z) = A ∘ c_L ∘ ⋯ ∘ c_1(z), z ~ N(0, I) (Dinh, Sohl-Dickstein & Bengio,
"Density estimation using Real NVP", ICLR 2017). Coupling layer l with a binary mask b_l
(alternating the parity of the coordinates' indices, so every coordinate is transformed by
every other layer):

    c_l(h) = b ⊙ h + (1 − b) ⊙ (h ⊙ exp(s(b ⊙ h)) + t(b ⊙ h)),
    c_l⁻¹(y) = b ⊙ y + (1 − b) ⊙ (y − t(b ⊙ y)) ⊙ exp(−s(b ⊙ y)),
    log |det ∂c_l⁻¹/∂y| = −Σ_j (1 − b_j) s_j(b ⊙ y),

with (s, t) an MLP (:class:`minimax.models.MLPGenerator`) of the unchanged half, its log-scale
soft-clamped s = B tanh(ŝ / B) (B = ``max_log_scale``), and A(h) = e^a ⊙ h + m a learned
element-wise affine map (log |det ∂A⁻¹/∂x| = −Σ_j a_j). The conditioners' output layers and
(a, m) start at zero, so an untrained flow is the identity. The change of variables gives
the exact log-likelihood (course notes shared/references/003, eq. (3)):

    log p(x) = log N(f⁻¹(x); 0, I) + log |det ∂f⁻¹(x)/∂x|,

and the game minimizes the mean negative log-likelihood of minibatches: empirical KL(ν̂ ‖ p_θ)
up to a constant, i.e. maximum likelihood.

For pixels in [0, 1] (``logit_alpha`` set) the flow models y = logit(α + (1 − 2α) x) and the
likelihood adds log |dy/dx| = Σ_j [log(1 − 2α) − log u_j − log(1 − u_j)], u = α + (1 − 2α) x
(the logit preprocessing of Dinh et al. 2017, α = 0.05); with ``dequantize`` = V levels each
training batch is x̃ = ((V − 1) x + u) / V, u ~ U[0, 1)^d, so a continuous density is fitted
to discrete pixels (uniform dequantization; Theis, van den Oord & Bethge, ICLR 2016).
"""
from __future__ import annotations

import dataclasses
import math
from typing import Optional, Sequence, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from minimax.baselines.common import (check_positive_float, check_positive_int, check_widths, data_batches,
                                      single_player)
from minimax.game import Game
from minimax.models import MLPGenerator

_LOG_2PI = math.log(2.0 * math.pi)


def parity_masks(dim: int, num_layers: int) -> jax.Array:
    """b_l (num_layers, dim): layer l keeps the coordinates j with (j + l) even unchanged."""
    return ((jnp.arange(dim)[None, :] + jnp.arange(num_layers)[:, None]) % 2 == 0).astype(jnp.float32)


class RealNVPNet(nn.Module):
    """The flax part of :class:`RealNVP`: coupling conditioners and the element-wise affine map."""

    dim: int
    num_layers: int
    widths: Sequence[int]
    max_log_scale: float

    def setup(self):
        self.conditioners = [MLPGenerator(data_shape=(2 * self.dim,), widths=tuple(self.widths))
                             for _ in range(self.num_layers)]
        self.shift = self.param("shift", nn.initializers.zeros, (self.dim,))
        self.log_scale = self.param("log_scale", nn.initializers.zeros, (self.dim,))

    def _coupling(self, l, kept):
        out = self.conditioners[l](kept)
        s_raw, t = out[..., :self.dim], out[..., self.dim:]
        return self.max_log_scale * jnp.tanh(s_raw / self.max_log_scale), t

    def inverse(self, x):
        """f⁻¹(x) and log |det ∂f⁻¹/∂x| per row, for x (n, dim)."""
        masks = parity_masks(self.dim, self.num_layers)
        h = (x - self.shift) * jnp.exp(-self.log_scale)
        log_det = jnp.broadcast_to(-jnp.sum(self.log_scale), x.shape[:1])
        for l in reversed(range(self.num_layers)):
            b = masks[l]
            s, t = self._coupling(l, b * h)
            h = b * h + (1 - b) * (h - t) * jnp.exp(-s)
            log_det = log_det - jnp.sum((1 - b) * s, axis=-1)
        return h, log_det

    def forward(self, z):
        """f(z) for z (n, dim)."""
        masks = parity_masks(self.dim, self.num_layers)
        h = z
        for l in range(self.num_layers):
            b = masks[l]
            s, t = self._coupling(l, b * h)
            h = b * h + (1 - b) * (h * jnp.exp(s) + t)
        return h * jnp.exp(self.log_scale) + self.shift

    def __call__(self, x):
        return self.inverse(x)


def _zero_output_layers(params, num_hidden: int):
    """The conditioners' output Dense layers set to zero (the flow starts at the identity)."""
    out = f"Dense_{num_hidden}"
    conditioners = {name: dict(p, **{out: jax.tree_util.tree_map(jnp.zeros_like, p[out])})
                    for name, p in params["params"].items() if name.startswith("conditioners_")}
    return {"params": dict(params["params"], **conditioners)}


@dataclasses.dataclass(frozen=True)
class RealNVP:
    """A RealNVP flow on flat data (n, ``data_dim``): ``num_layers`` couplings with MLP conditioners.

    ``logit_alpha``: model logit(α + (1 − 2α) x) for data in [0, 1] (None: x itself);
    ``dequantize``: uniform dequantization with this many levels in the training loss (0: none).
    """

    data_dim: int
    num_layers: int = 6
    widths: Tuple[int, ...] = (64, 64)
    max_log_scale: float = 3.0
    logit_alpha: Optional[float] = None
    dequantize: int = 0

    def __post_init__(self):
        check_positive_int(self.data_dim, "data_dim", "RealNVP")
        check_positive_int(self.num_layers, "num_layers", "RealNVP")
        object.__setattr__(self, "widths", check_widths(self.widths, "RealNVP"))
        check_positive_float(self.max_log_scale, "max_log_scale", "RealNVP")
        if self.logit_alpha is not None and not 0.0 < self.logit_alpha < 0.5:
            raise ValueError(f"RealNVP: `logit_alpha` must be None or in (0, 0.5), got {self.logit_alpha!r}")
        check_positive_int(self.dequantize, "dequantize", "RealNVP", minimum=0)
        if self.dequantize == 1:
            raise ValueError("RealNVP: `dequantize` must be 0 (off) or a number of levels >= 2, got 1")

    @property
    def net(self) -> RealNVPNet:
        return RealNVPNet(self.data_dim, self.num_layers, self.widths, self.max_log_scale)

    def init(self, key) -> dict:
        """Parameters of an identity flow: the conditioners' output layers and (a, m) are zero."""
        params = self.net.init(key, jnp.zeros((1, self.data_dim)))
        return _zero_output_layers(params, len(self.widths))

    def init_players(self, key):
        """``Players(init(key), ())``, the game's ``sample_init``."""
        return single_player(self.init(key))

    def _logit(self, x):
        a = self.logit_alpha
        u = a + (1.0 - 2.0 * a) * x
        log_det = jnp.sum(math.log(1.0 - 2.0 * a) - jnp.log(u) - jnp.log1p(-u), axis=-1)
        return jnp.log(u) - jnp.log1p(-u), log_det

    def transform(self, params, x):
        """z = f⁻¹(x) (through the logit when set) and log |det ∂z/∂x| per row, for x (n, data_dim)."""
        log_det = jnp.zeros(x.shape[:1], x.dtype)
        if self.logit_alpha is not None:
            x, log_det = self._logit(x)
        z, flow_log_det = self.net.apply(params, x, method=RealNVPNet.inverse)
        return z, log_det + flow_log_det

    def log_prob(self, params, x) -> jax.Array:
        """log p(x) = log N(f⁻¹(x); 0, I) + log |det ∂f⁻¹/∂x|, (n,) (a density in x's units)."""
        z, log_det = self.transform(params, x)
        return jnp.sum(-0.5 * z**2 - 0.5 * _LOG_2PI, axis=-1) + log_det

    def noise(self, key, n: int) -> jax.Array:
        """n base draws z ~ N(0, I), (n, data_dim): the input of :meth:`sample`."""
        return jax.random.normal(key, (n, self.data_dim))

    def sample(self, params, noise) -> jax.Array:
        """x = f(z) for base points ``noise`` (n, data_dim); under the logit, x = (sigmoid(y) − α)/(1 − 2α)
        clipped to [0, 1] (the image of [0, 1] is u ∈ [α, 1 − α]; the flow may put mass outside it)."""
        x = self.net.apply(params, noise, method=RealNVPNet.forward)
        if self.logit_alpha is not None:
            x = jnp.clip((jax.nn.sigmoid(x) - self.logit_alpha) / (1.0 - 2.0 * self.logit_alpha), 0.0, 1.0)
        return x


@dataclasses.dataclass(frozen=True)
class NegativeLogLikelihood:
    """The loss of :func:`flow_game`: −(1/B) Σ_x log p(x̃) on the step's (dequantized) minibatch."""

    model: RealNVP

    def __call__(self, params, key, args, state):
        k_batch, k_noise = jax.random.split(key)
        x = args(k_batch)
        levels = self.model.dequantize
        if levels:
            x = ((levels - 1) * x + jax.random.uniform(k_noise, x.shape, x.dtype)) / levels
        return -jnp.mean(self.model.log_prob(params.min, x))


def flow_game(model: RealNVP, data, *, batch_size: int) -> Game:
    """Maximum likelihood of a :class:`RealNVP` on minibatches of ``data`` (n, data_dim), a single-player game.

    The loss is the mean negative log-likelihood in nats per example (with dequantization
    noise when the model has ``dequantize``); the data are the game's ``args`` (a
    :func:`minimax.data.minibatches` sampler). Sample with ``model.sample(params.min,
    model.noise(key, n))``.
    """
    if not isinstance(model, RealNVP):
        raise TypeError(f"flow_game: `model` must be a minimax.baselines.flow.RealNVP, got {type(model).__name__}")
    batches = data_batches(data, batch_size, model.data_dim, "flow_game")
    return Game(loss=NegativeLogLikelihood(model), args=batches, name="realnvp", sample_init=model.init_players)
