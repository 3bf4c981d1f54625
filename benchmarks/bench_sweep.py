"""Throughput of vmapped sweeps and of the library's EG step (a benchmark; not a test).

Measures, side by side in one run, medians over --repeats timings (compilation excluded):

1. the program ``train.sweep`` runs for S seeds (:class:`minimax.train.PreparedSweep`: vmap,
   a sequential lax.map, lax.map over batches of 8) vs a Python loop over the same S seeds
   calling one jitted single-seed ``train.run``;
2. the library's extragradient sweep (``updates.extragradient(optax.sgd(η))``, vmapped, with its
   per-step statistics and divergence checks) vs a hand-written pure-JAX EG step
   p ← p − ηF(p − ηF(p)) in a ``lax.scan``, vmapped over the same seeds.

Problems: the zero-infinity Dirac GAN (2 scalars) and the 1-D translation GAN (fresh
batch of 64 samples per step, logistic critic). Usage:

    python benchmarks/bench_sweep.py [--seeds 64] [--steps 2000] [--repeats 5] [--out bench_sweep.json]
"""
from __future__ import annotations

import argparse
import json
import os

import jax
import jax.numpy as jnp
import optax

from minimax import games, train, updates
from minimax.experiments.bench import interleaved_medians
from minimax.results import format_table, versions

LR = 0.1


def hand_written_run(game, steps):
    """The same algorithm without the library: F by jax.grad, EG by hand, lax.scan over steps."""
    def field(p, key):
        g = jax.grad(game.loss)(p, key, game.args, None)
        return type(p)(g.min, jax.tree_util.tree_map(jnp.negative, g.max))

    def run_one(key):
        k_init, k_run = jax.random.split(key)

        def step(p, t):
            k = jax.random.fold_in(k_run, t)
            half = jax.tree_util.tree_map(lambda x, f: x - LR * f, p, field(p, k))
            return jax.tree_util.tree_map(lambda x, f: x - LR * f, p, field(half, k)), None

        return jax.lax.scan(step, game.sample_init(k_init), jnp.arange(steps))[0]
    return run_one


def bench_problem(name, game, seeds, steps, repeats):
    rule = updates.extragradient(optax.sgd(LR))
    keys = jax.random.split(jax.random.PRNGKey(0), seeds)
    prepared = train.PreparedSweep(game, rule, None, keys, steps=steps)
    state, _ = prepared.initial()
    fns = {}
    for label, strategy, batch in [("vmap", "vmap", None), ("lax.map", "map", None), ("lax.map(batch=8)", "map", 8)]:
        if batch is None or (seeds % batch == 0 and batch < seeds):
            program = prepared.blocks_program(prepared.blocks, state, strategy=strategy, batch_size=batch)
            fns[label] = lambda program=program: prepared.run(program, state)
    one = jax.jit(lambda g, k: train.run(g, rule, g.sample_init(jax.random.split(k)[0]), jax.random.split(k)[1],
                                         steps=steps))
    fns["loop"] = lambda: [one(game, k) for k in keys]
    hand = jax.jit(jax.vmap(hand_written_run(game, steps)))
    fns["hand_written_vmap"] = lambda: hand(keys)
    t = interleaved_medians(fns, repeats)
    in_program = {k: v for k, v in t.items() if k not in ("loop", "hand_written_vmap")}
    best = min(in_program, key=in_program.get)
    seed_steps = seeds * steps
    return {
        "problem": name, "seeds": seeds, "steps": steps,
        **{f"{s}_seed_steps_per_s": seed_steps / v for s, v in t.items()},
        "best_strategy": best,
        "vmap_over_loop": t["loop"] / t["vmap"],
        "best_over_loop": t["loop"] / t[best],
        "library_eg_over_hand_written": t["hand_written_vmap"] / t["vmap"],  # > 1: the library is faster
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=64)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default="bench_sweep.json")
    args = parser.parse_args(argv)
    problems = [("dirac_zero_infinity", games.dirac_gan("zero_infinity")), ("translation_gan", games.translation_gan())]
    rows = [bench_problem(n, g, args.seeds, args.steps, args.repeats) for n, g in problems]
    print(format_table(rows, ["problem", "seeds", "steps", "loop_seed_steps_per_s", "vmap_seed_steps_per_s",
                              "hand_written_vmap_seed_steps_per_s",
                              "best_strategy", "vmap_over_loop", "best_over_loop", "library_eg_over_hand_written"]))
    config = dict(vars(args), load_average=os.getloadavg()[0])
    with open(args.out, "w") as f:
        json.dump({"config": config, "versions": versions(), "rows": rows}, f, indent=2)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
