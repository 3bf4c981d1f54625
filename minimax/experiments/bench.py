"""``minimax bench``: throughput of the MNIST-32 extragradient training, measured side by side.

For S = 1, 8, 64 seeds of the zero-infinity EG run of :mod:`minimax.experiments.mnist32`
(full batch, 32 digits, MLPs of width 128, SGD, τ = 1), seed-steps per second of

(a) all S seeds in one jit (:func:`minimax.train.sweep`): the best of ``vmap`` over all seeds
    and ``lax.map`` over seed batches of 1 or 8 (the batching strategy that wins on the backend:
    on a 2-core CPU the per-seed matmuls already fill the cores, so batching gains little);
(b) a Python loop over S calls of one jitted single-seed run (compiled once);
(c) the same algorithm in PyTorch eager on CPU, a loop over seeds (only when torch is
    installed: ``pip install torch``; it is never a dependency of minimax).

Achieved FLOP/s of (a) = (XLA's flop count of one EG step) × steps × S / time, against this
machine's measured large-matmul FLOP/s (float32 n×n matmul, median). Every timing is the
median of ``--repeats`` runs after a warm-up (compilation excluded). Writes ``DIR/bench.json``.
"""
from __future__ import annotations

import sys

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from minimax import train
from minimax.data import mnist32
from minimax.experiments.common import require_positive_ints, require_writable
from minimax.experiments.mnist32 import build_game, make_rule, memorization_metrics
from minimax.results import format_table, write_results
from minimax.timing import median_time

LR, TAU, DISTANCE, METHOD = 1e-4, 1.0, "zero_infinity", "eg"


def matmul_flops_per_second(n: int = 2048, repeats: int = 10) -> float:
    """Measured float32 matmul throughput: 2n³ / median time of an n×n by n×n product."""
    a = jax.random.normal(jax.random.PRNGKey(0), (n, n), jnp.float32)
    matmul = jax.jit(lambda x: x @ x)
    return 2 * n**3 / median_time(matmul, a, repeats=repeats)


def flops_per_step(data, latents, width) -> float:
    """XLA's flop count of one EG step (two field evaluations and the update) for one seed."""
    game, generator, critic = build_game(DISTANCE, data, latents, width)
    rule = make_rule(METHOD, "sgd")({"lr": LR, "tau": TAU})
    state = train.init_state(game, rule, game.sample_init(jax.random.PRNGKey(0)))
    cost = jax.jit(train.make_step(game, rule)).lower(state, jax.random.PRNGKey(1)).compile().cost_analysis()
    cost = cost[0] if isinstance(cost, (list, tuple)) else cost
    return float(cost["flops"])


def torch_seed_steps_per_second(data, latents, width, seeds, steps, repeats):
    """The same EG run in PyTorch eager (CPU), a loop over seeds, at the better of 1 thread and
    torch's default thread count; None when torch is missing."""
    try:
        import torch
    except ImportError:
        return None
    x = torch.tensor(np.asarray(data))
    z = torch.tensor(np.asarray(latents))

    def mlp(sizes, act):
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(torch.nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(act())
        return torch.nn.Sequential(*layers)

    def run(seed):
        torch.manual_seed(seed)
        gen = mlp([z.shape[1], width, width, x.shape[1]], torch.nn.ReLU)
        crit = mlp([x.shape[1], width, width, 1], lambda: torch.nn.LeakyReLU(0.2))
        params = list(gen.parameters()) + list(crit.parameters())
        n_gen = len(list(gen.parameters()))

        def field():  # F = (∇_θ L, −∇_w L), L = mean f(x) − mean f(G(z)) (zero-infinity)
            loss = crit(x).mean() - crit(torch.sigmoid(gen(z))).mean()
            grads = torch.autograd.grad(loss, params)
            return [g if i < n_gen else -g for i, g in enumerate(grads)]

        for _ in range(steps):
            start = [p.detach().clone() for p in params]
            extrapolation = field()
            with torch.no_grad():
                for p, f in zip(params, extrapolation):
                    p.sub_(LR * f)
            half = field()
            with torch.no_grad():
                for p, p0, f in zip(params, start, half):
                    p.copy_(p0 - LR * f)

    def all_seeds():
        for s in range(seeds):
            run(s)

    # Give torch its best threading: its default pool can be far slower on a busy 2-core machine.
    rates = {}
    default_threads = torch.get_num_threads()
    for threads in sorted({1, default_threads}):
        torch.set_num_threads(threads)
        rates[threads] = seeds * steps / median_time(all_seeds, repeats=repeats)
    torch.set_num_threads(default_threads)
    return max(rates.values())


def measure(seeds: int, steps: int, torch_steps: int, width: int, repeats: int, data, latents) -> dict:
    game, generator, critic = build_game(DISTANCE, data, latents, width)
    rule = make_rule(METHOD, "sgd")({"lr": LR, "tau": TAU})
    metrics = memorization_metrics(generator)

    def run_one(game, key):
        k_init, k_run = jax.random.split(key)
        return train.run(game, rule, game.sample_init(k_init), k_run, steps=steps, metrics=metrics)

    keys = jax.random.split(jax.random.PRNGKey(0), seeds)
    strategies = {"vmap": jax.jit(jax.vmap(run_one, in_axes=(None, 0)))}
    for batch in (1, 8):  # batch 1: a sequential lax.map over seeds inside the one program
        if seeds > batch and seeds % batch == 0:
            strategies[f"lax.map(batch={batch})"] = jax.jit(
                lambda g, ks, b=batch: lax.map(lambda k: run_one(g, k), ks, batch_size=b))
    single = jax.jit(run_one)
    loop = lambda g, ks: [single(g, k) for k in ks]

    t_loop = median_time(loop, game, keys, repeats=repeats)
    t = {name: median_time(fn, game, keys, repeats=repeats) for name, fn in strategies.items()}
    best = min(t, key=t.get)
    work = seeds * steps
    torch_rate = torch_seed_steps_per_second(data, latents, width, seeds, torch_steps, repeats)
    return {"seeds": seeds, "steps": steps, "loop_seed_steps_per_s": work / t_loop,
            **{f"{name}_seed_steps_per_s": work / v for name, v in t.items()},
            "best_strategy": best, "best_seed_steps_per_s": work / t[best],
            "torch_eager_seed_steps_per_s": torch_rate}


def add_arguments(parser):
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 8, 64], help="seed counts S, default 1 8 64")
    parser.add_argument("--steps", type=int, default=50, help="EG steps per timed run, default 50")
    parser.add_argument("--torch-steps", type=int, default=20, help="steps per timed torch run, default 20")
    parser.add_argument("--width", type=int, default=128, help="hidden width of both MLPs, default 128")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats (median), default 3")
    parser.add_argument("--out", default="./minimax-results", help="output directory, default ./minimax-results")


def main(args) -> int:
    require_positive_ints(args, "seeds", "steps", "torch_steps", "width", "repeats")
    require_writable(args.out)
    data, _ = mnist32()
    latents = jax.random.normal(jax.random.PRNGKey(0), (data.shape[0], 16))
    peak = matmul_flops_per_second()
    step_flops = flops_per_step(data, latents, args.width)
    rows = []
    for seeds in args.seeds:
        row = measure(seeds, args.steps, args.torch_steps, args.width, args.repeats, data, latents)
        achieved = step_flops * row["best_seed_steps_per_s"]
        torch_rate = row["torch_eager_seed_steps_per_s"]
        row.update({
            "vmap_over_loop": row["best_seed_steps_per_s"] / row["loop_seed_steps_per_s"],
            "vmap_over_torch": None if torch_rate is None else row["best_seed_steps_per_s"] / torch_rate,
            "achieved_flops_per_s": achieved, "matmul_peak_flops_per_s": peak,
            "flops_fraction_of_matmul_peak": achieved / peak, "flops_per_seed_step": step_flops,
        })
        rows.append(row)
        print(f"S={seeds}: {row['best_seed_steps_per_s']:.0f} seed-steps/s ({row['best_strategy']})", file=sys.stderr)
    config = {"distance": DISTANCE, "method": METHOD, "lr": LR, "tau": TAU, "width": args.width, "steps": args.steps,
              "torch_steps": args.torch_steps, "repeats": args.repeats, "backend": jax.default_backend()}
    # The headline numbers are those of the largest S.
    summary = {k: rows[-1][k] for k in ("vmap_over_loop", "vmap_over_torch", "flops_fraction_of_matmul_peak")}
    paths = write_results(args.out, "bench", config, rows, summary=summary)
    print(format_table(rows, ["seeds", "loop_seed_steps_per_s", "best_seed_steps_per_s", "best_strategy",
                              "torch_eager_seed_steps_per_s", "vmap_over_loop", "vmap_over_torch",
                              "flops_fraction_of_matmul_peak"]))
    print(f"matmul peak {peak / 1e9:.1f} GFLOP/s; one EG seed-step = {step_flops / 1e6:.1f} MFLOP; wrote {paths['json']}")
    return 0
