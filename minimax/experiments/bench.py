"""``minimax bench``: throughput of the MNIST-32 extragradient sweep, measured side by side.

For S seeds (default 1, 8, 64) of the zero-infinity EG run of :mod:`minimax.experiments.mnist32`
(full batch, 32 digits, MLPs of width 128, SGD, τ = 1), seed-steps per second of

(a) the library's sweep program (:class:`minimax.train.PreparedSweep`, the program
    :func:`minimax.train.sweep` runs, compiled once) with each batching strategy: ``vmap``
    over all seeds, ``map`` (a sequential ``lax.map`` over seeds), ``map8`` (``lax.map`` over
    batches of 8 vmapped seeds), and what ``strategy="auto"`` picks;
(b) a Python loop over S calls of one jitted single-seed :func:`minimax.train.run` (compiled once);
(c) the same algorithm in PyTorch eager on CPU, a loop over seeds (only when torch is
    installed: ``pip install torch``; it is never a dependency of minimax).

Timings are medians of ``--repeats`` interleaved repeats after a warm-up (compilation
excluded); ratios are formed from the medians of this one run. Achieved FLOP/s = (XLA's flop
count of one EG step) × steps × S / time, against this machine's measured float32 n×n matmul
FLOP/s. The load average before and after is recorded (a warning above 1: figures measured
under load are pessimistic), and so are XLA's memory estimate of the largest sweep program and,
on an accelerator, the device's peak memory. ``--breakdown`` adds where one seed's step spends
its time (one field evaluation, the update, the checks). Writes ``DIR/bench.json``.
"""
from __future__ import annotations

import os
import statistics
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

from minimax import train
from minimax.data import mnist32
from minimax.experiments.common import require_positive_ints, require_writable
from minimax.experiments.mnist32 import build_game, make_rule, memorization_metrics
from minimax.results import format_table, write_results
from minimax.timing import median_time

LR, TAU, DISTANCE, METHOD = 1e-4, 1.0, "zero_infinity", "eg"
STRATEGY_OPTIONS = {"vmap": ("vmap", None), "map": ("map", None), "map8": ("map", 8)}


def matmul_flops_per_second(n: int = 2048, repeats: int = 10) -> float:
    """Measured float32 matmul throughput: 2n³ / median time of an n×n by n×n product."""
    a = jax.random.normal(jax.random.PRNGKey(0), (n, n), jnp.float32)
    matmul = jax.jit(lambda x: x @ x)
    return 2 * n**3 / median_time(matmul, a, repeats=repeats)


def setup(data, latents, width):
    """(game, rule, metrics) of the benchmarked run."""
    game, generator, _ = build_game(DISTANCE, data, latents, width)
    return game, make_rule(METHOD)({"lr": LR, "tau": TAU}), memorization_metrics(generator, stiffness=False)


def flops_per_step(data, latents, width) -> float:
    """XLA's flop count of one EG step (two field evaluations and the update) for one seed."""
    game, rule, _ = setup(data, latents, width)
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


def interleaved_medians(fns: dict, repeats: int) -> dict:
    """Median wall time of each ``fns[name]()`` over ``repeats`` rounds that call every fn once, after a warm-up."""
    for fn in fns.values():
        jax.block_until_ready(fn())
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            jax.block_until_ready(fn())
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def measure(seeds: int, steps: int, torch_steps: int, width: int, repeats: int, data, latents,
            strategies=tuple(STRATEGY_OPTIONS)) -> dict:
    game, rule, metrics = setup(data, latents, width)
    keys = jax.random.split(jax.random.PRNGKey(0), seeds)
    prepared = train.PreparedSweep(game, rule, None, keys, steps=steps, metrics=metrics)
    state, _ = prepared.initial()
    auto = prepared.resolve_strategy(state)
    auto_name = next(k for k, v in STRATEGY_OPTIONS.items() if v == auto)
    fns, memory = {}, {}
    for name, (strategy, batch) in STRATEGY_OPTIONS.items():
        if (name not in strategies and name != auto_name) or (batch is not None and (seeds <= batch or seeds % batch)):
            continue
        program = prepared.blocks_program(prepared.blocks, state, strategy=strategy, batch_size=batch)
        fns[name] = lambda program=program: prepared.run(program, state)
        analysis = program.memory_analysis()
        memory[name] = None if analysis is None else int(analysis.temp_size_in_bytes + analysis.argument_size_in_bytes
                                                         + analysis.output_size_in_bytes)

    def run_one(game, key):
        k_init, k_run = jax.random.split(key)
        return train.run(game, rule, game.sample_init(k_init), k_run, steps=steps, metrics=metrics)

    single = jax.jit(run_one)
    fns["loop"] = lambda: [single(game, k) for k in keys]
    t = interleaved_medians(fns, repeats)
    work = seeds * steps
    rates = {name: work / v for name, v in t.items()}
    in_program = {k: v for k, v in rates.items() if k != "loop"}
    best = max(in_program, key=in_program.get)
    return {"seeds": seeds, "steps": steps, **{f"{k}_seed_steps_per_s": v for k, v in rates.items()},
            "loop_seed_steps_per_s": rates["loop"], "best_strategy": best, "best_seed_steps_per_s": rates[best],
            "auto_strategy": auto_name, "auto_seed_steps_per_s": rates[auto_name],
            "sweep_memory_bytes": memory.get(auto_name),
            "torch_eager_seed_steps_per_s": torch_seed_steps_per_second(data, latents, width, seeds, torch_steps,
                                                                        repeats)}


def breakdown(data, latents, width, repeats: int) -> dict:
    """Where one seed's EG step spends its time: one field evaluation (both players' forward and
    backward passes), the whole step, and the step's share beyond two field evaluations."""
    game, rule, _ = setup(data, latents, width)
    state = train.init_state(game, rule, game.sample_init(jax.random.PRNGKey(0)))
    key = jax.random.PRNGKey(1)
    field = jax.jit(lambda g, p: g.evaluate(p, key).field)
    step = jax.jit(lambda g, s: train.make_step(g, rule)(s, key)[0])
    t = interleaved_medians({"field": lambda: field(game, state.params), "step": lambda: step(game, state)},
                            repeats=max(repeats, 20))
    return {"field_evaluation_s": t["field"], "eg_step_s": t["step"],
            "two_field_evaluations_fraction_of_step": 2 * t["field"] / t["step"]}


def add_arguments(parser):
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 8, 64], help="seed counts S, default 1 8 64")
    parser.add_argument("--steps", type=int, default=50, help="EG steps per timed run, default 50")
    parser.add_argument("--torch-steps", type=int, default=20, help="steps per timed torch run, default 20")
    parser.add_argument("--width", type=int, default=128, help="hidden width of both MLPs, default 128")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats (median), default 5")
    parser.add_argument("--strategies", nargs="+", default=list(STRATEGY_OPTIONS), choices=list(STRATEGY_OPTIONS),
                        help="in-program batchings to time (the auto choice is always timed), default all")
    parser.add_argument("--breakdown", action="store_true", help="also time one field evaluation against one step")
    parser.add_argument("--out", default="./minimax-results", help="output directory, default ./minimax-results")


def main(args) -> int:
    require_positive_ints(args, "seeds", "steps", "torch_steps", "width", "repeats")
    require_writable(args.out)
    load_before = os.getloadavg()[0]
    if load_before > 1:
        print(f"minimax bench: warning: load average {load_before:.2f} > 1; figures measured under load are "
              "pessimistic", file=sys.stderr)
    data, _ = mnist32()
    latents = jax.random.normal(jax.random.PRNGKey(0), (data.shape[0], 16))
    peak = matmul_flops_per_second()
    step_flops = flops_per_step(data, latents, args.width)
    rows = []
    for seeds in args.seeds:
        row = measure(seeds, args.steps, args.torch_steps, args.width, args.repeats, data, latents, args.strategies)
        achieved = step_flops * row["best_seed_steps_per_s"]
        torch_rate = row["torch_eager_seed_steps_per_s"]
        row.update({
            "sweep_over_loop": row["best_seed_steps_per_s"] / row["loop_seed_steps_per_s"],
            "auto_over_loop": row["auto_seed_steps_per_s"] / row["loop_seed_steps_per_s"],
            "sweep_over_torch": None if torch_rate is None else row["best_seed_steps_per_s"] / torch_rate,
            "achieved_flops_per_s": achieved, "matmul_peak_flops_per_s": peak,
            "flops_fraction_of_matmul_peak": achieved / peak, "flops_per_seed_step": step_flops,
        })
        rows.append(row)
        print(f"S={seeds}: {row['best_seed_steps_per_s']:.0f} seed-steps/s ({row['best_strategy']}; "
              f"auto: {row['auto_strategy']})", file=sys.stderr)
    load_after = os.getloadavg()[0]
    config = {"distance": DISTANCE, "method": METHOD, "lr": LR, "tau": TAU, "width": args.width, "steps": args.steps,
              "torch_steps": args.torch_steps, "repeats": args.repeats, "backend": jax.default_backend(),
              "devices": [str(d) for d in jax.devices()], "xla_flags": os.environ.get("XLA_FLAGS", ""),
              "load_average_before": load_before, "load_average_after": load_after}
    summary = {k: rows[-1][k] for k in ("sweep_over_loop", "sweep_over_torch", "flops_fraction_of_matmul_peak")}
    summary["load_average"] = max(load_before, load_after)
    if jax.default_backend() != "cpu":
        summary["device_peak_memory_bytes"] = (jax.devices()[0].memory_stats() or {}).get("peak_bytes_in_use")
    if args.breakdown:
        summary["breakdown"] = breakdown(data, latents, args.width, args.repeats)
    paths = write_results(args.out, "bench", config, rows, summary=summary)
    print(format_table(rows, ["seeds", "loop_seed_steps_per_s", "best_seed_steps_per_s", "best_strategy",
                              "auto_strategy", "torch_eager_seed_steps_per_s", "sweep_over_loop", "sweep_over_torch",
                              "flops_fraction_of_matmul_peak"]))
    print(f"matmul peak {peak / 1e9:.1f} GFLOP/s; one EG seed-step = {step_flops / 1e6:.1f} MFLOP; load average "
          f"{load_before:.2f} -> {load_after:.2f}; wrote {paths['json']}")
    return 0
