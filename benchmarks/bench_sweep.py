"""Throughput of vmapped sweeps and of the library's EG step (issue 2 benchmark; not a test).

Measures, side by side in one run, medians over --repeats timings (compilation excluded):

1. a sweep over S seeds in one jit (``train.sweep``: vmap, and lax.map in batches) vs a
   Python loop over the same S seeds calling one jitted single-seed run;
2. the library's extragradient (``updates.extragradient(optax.sgd(η))`` in ``train.run``)
   vs a hand-written pure-JAX EG step p ← p − ηF(p − ηF(p)) in a ``lax.scan``, both
   vmapped over the same seeds.

Problems: the zero-infinity Dirac GAN (2 scalars) and the 1-D translation GAN (fresh
batch of 64 samples per step, logistic critic). Usage:

    python benchmarks/bench_sweep.py [--seeds 64] [--steps 2000] [--repeats 5] [--out bench_sweep.json]
"""
from __future__ import annotations

import argparse
import json

import jax
import jax.numpy as jnp
import optax

from minimax import games, train, updates
from minimax.results import format_table, versions
from minimax.timing import median_time

LR = 0.1


def library_run(game, steps):
    def run_one(hp, key):
        k_init, k_run = jax.random.split(key)
        res = train.run(game, updates.extragradient(optax.sgd(hp["lr"])), game.sample_init(k_init), k_run,
                        steps=steps, record_every=steps)
        return res.params
    return run_one


def hand_written_run(game, steps):
    """The same algorithm without the library: F by jax.grad, EG by hand, lax.scan over steps."""
    def field(p, key):
        g = jax.grad(game.loss)(p, key)
        return type(p)(g.min, jax.tree_util.tree_map(jnp.negative, g.max))

    def run_one(hp, key):
        k_init, k_run = jax.random.split(key)
        lr = hp["lr"]

        def step(p, t):
            k = jax.random.fold_in(k_run, t)
            half = jax.tree_util.tree_map(lambda x, f: x - lr * f, p, field(p, k))
            return jax.tree_util.tree_map(lambda x, f: x - lr * f, p, field(half, k)), None

        return jax.lax.scan(step, game.sample_init(k_init), jnp.arange(steps))[0]
    return run_one


def bench_problem(name, game, seeds, steps, repeats):
    hp = train.hyperparameter_grid(lr=[LR])
    keys = jax.random.split(jax.random.PRNGKey(0), seeds)
    lib = library_run(game, steps)
    one = jax.jit(lambda k: lib({"lr": jnp.float32(LR)}, k))
    loop = lambda ks: [one(k) for k in ks]
    strategies = {"vmap": lambda ks: train.sweep(lib, hp, ks)}
    for b in (8, 16):
        if seeds % b == 0 and b < seeds:
            strategies[f"lax.map(batch={b})"] = lambda ks, b=b: train.sweep(lib, hp, ks, seed_batch_size=b)
    hand = jax.jit(jax.vmap(jax.vmap(hand_written_run(game, steps), in_axes=(None, 0)), in_axes=(0, None)))

    t_loop = median_time(loop, keys, repeats=repeats)
    t = {s: median_time(f, keys, repeats=repeats) for s, f in strategies.items()}
    t_hand = median_time(hand, hp, keys, repeats=repeats)
    best = min(t, key=t.get)
    seed_steps = seeds * steps
    return {
        "problem": name, "seeds": seeds, "steps": steps,
        "loop_seed_steps_per_s": seed_steps / t_loop,
        **{f"{s}_seed_steps_per_s": seed_steps / v for s, v in t.items()},
        "best_strategy": best,
        "vmap_over_loop": t_loop / t["vmap"],
        "best_over_loop": t_loop / t[best],
        "library_eg_over_hand_written": t_hand / t["vmap"],  # > 1: the library is faster
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
                              "best_strategy", "vmap_over_loop", "best_over_loop", "library_eg_over_hand_written"]))
    with open(args.out, "w") as f:
        json.dump({"config": vars(args), "versions": versions(), "rows": rows}, f, indent=2)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
