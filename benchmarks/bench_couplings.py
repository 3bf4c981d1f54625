"""Time to compute a coupling between two point sets (the OT benchmark; not a test).

For x_i ~ N(0, I_d), y_j ~ N(1, I_d), n = m points, squared Euclidean cost, measured in
one run (medians over --repeats timings, compilation excluded, cost matrix included):

1. one problem of size n: ``minimax.ot.sinkhorn`` (ott-jax, ε = --epsilon × mean cost,
   while-loop to L1 marginal error 1e-3), ``minimax.ot.assignment`` (exact, Hungarian,
   jitted JAX), SciPy ``linear_sum_assignment`` (float64 cost on the host);
2. --batch independent problems of size n, three ways: ``jit(vmap(solver))``, ``jit`` of
   ``lax.map`` (a sequential loop inside one program) and a Python loop over the jitted
   single-problem solver (and a loop of SciPy calls). Sinkhorn is batched both with its
   while-loop (a batched while-loop runs until the slowest problem converges) and with a
   fixed iteration count (``iterations=``) equal to the single problem's while-loop count.

Sizes above --max-exact skip the JAX exact solver (cubic time); sizes above --max-batch
skip part 2. Usage:

    python benchmarks/bench_couplings.py [--sizes 256 512 1024 2048 4096] [--dim 16]
        [--repeats 3] [--batch 16] [--max-exact 4096] [--max-batch 512] [--out DIR]
"""
from __future__ import annotations

import argparse
import sys

import jax
import numpy as np
from scipy.optimize import linear_sum_assignment

from minimax import ot
from minimax.results import format_table, write_results
from minimax.timing import median_time


def problems(key, batch, n, dim):
    kx, ky = jax.random.split(key)
    return jax.random.normal(kx, (batch, n, dim)), jax.random.normal(ky, (batch, n, dim)) + 1.0


def scipy_assignment(x, y):
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    cost = np.sum(x * x, 1)[:, None] + np.sum(y * y, 1)[None] - 2 * x @ y.T
    rows, cols = linear_sum_assignment(cost)
    return cost[rows, cols].mean()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024, 2048, 4096])
    parser.add_argument("--dim", type=int, default=16)
    parser.add_argument("--epsilon", type=float, default=0.01, help="Sinkhorn ε relative to the mean cost")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--max-exact", type=int, default=4096)
    parser.add_argument("--max-batch", type=int, default=512)
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args(argv)

    def entropic(x, y, iterations=None):
        return ot.sinkhorn(x, y, epsilon=args.epsilon, relative_epsilon=True, iterations=iterations)

    sinkhorn = jax.jit(lambda x, y: entropic(x, y).cost)
    exact = jax.jit(lambda x, y: ot.assignment(x, y).cost)
    block = lambda out: jax.block_until_ready(out)
    rows = []
    for n in args.sizes:
        xs, ys = problems(jax.random.PRNGKey(n), args.batch, n, args.dim)
        x, y = xs[0], ys[0]
        row = {"n": n, "dim": args.dim}
        row["scipy_s"] = median_time(lambda: scipy_assignment(x, y), repeats=args.repeats)
        exact_cost = float(scipy_assignment(x, y))
        row["sinkhorn_s"] = median_time(lambda: block(sinkhorn(x, y)), repeats=args.repeats)
        row["sinkhorn_cost_gap"] = float(sinkhorn(x, y)) / exact_cost - 1
        if n <= args.max_exact:
            row["exact_s"] = median_time(lambda: block(exact(x, y)), repeats=args.repeats)
            row["exact_cost_gap"] = float(exact(x, y)) / exact_cost - 1
            row["exact_over_scipy"] = row["exact_s"] / row["scipy_s"]
        row["exact_over_sinkhorn"] = row["exact_s"] / row["sinkhorn_s"] if "exact_s" in row else None
        row["sinkhorn_iterations"] = iterations = int(jax.jit(lambda x, y: entropic(x, y).iterations)(x, y))
        if n <= args.max_batch:
            fixed = jax.jit(lambda x, y: entropic(x, y, iterations).cost)
            solvers = {"sinkhorn": sinkhorn, "sinkhorn_fixed": fixed, "exact": exact}
            for name, solve in solvers.items():
                if name == "exact" and n > args.max_exact:
                    continue
                vmapped = jax.jit(jax.vmap(solve))
                mapped = jax.jit(lambda xs, ys: jax.lax.map(lambda p: solve(*p), (xs, ys)))
                b = args.batch
                row[f"{name}_vmap_s"] = median_time(lambda: block(vmapped(xs, ys)), repeats=args.repeats)
                row[f"{name}_laxmap_s"] = median_time(lambda: block(mapped(xs, ys)), repeats=args.repeats)
                row[f"{name}_loop_s"] = median_time(lambda: block([solve(xs[i], ys[i]) for i in range(b)]),
                                                    args.repeats)
                row[f"{name}_loop_over_vmap"] = row[f"{name}_loop_s"] / row[f"{name}_vmap_s"]
            row["scipy_loop_s"] = median_time(
                lambda: [scipy_assignment(xs[i], ys[i]) for i in range(args.batch)], args.repeats)
        rows.append(row)
        print(f"n={n} done", file=sys.stderr)

    config = {**vars(args), "points": "x ~ N(0, I_d), y ~ N(1, I_d)", "sinkhorn_threshold": 1e-3,
              "timing": "median wall seconds, compilation excluded, cost matrix included"}
    paths = write_results(args.out, "bench_couplings", config, rows)
    print(format_table(rows, ["n", "scipy_s", "exact_s", "sinkhorn_s", "exact_over_scipy", "exact_over_sinkhorn",
                              "sinkhorn_cost_gap"]))
    batched_rows = [r for r in rows if "sinkhorn_vmap_s" in r]
    if batched_rows:
        print(f"\n{args.batch} independent problems (seconds for all of them):")
        print(format_table(batched_rows, ["n"] + [f"{name}_{how}" for name in ("sinkhorn", "sinkhorn_fixed", "exact")
                                                  for how in ("vmap_s", "laxmap_s", "loop_s")] + ["scipy_loop_s"]))
    print(f"\nwrote {paths['json']}, {paths['csv']}")


if __name__ == "__main__":
    main()
