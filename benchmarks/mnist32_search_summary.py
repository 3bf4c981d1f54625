"""One table of the MNIST-32 search (benchmarks/mnist32_search.sh): every configuration of every stage, with
the stage's data range, width, horizon and wall time, as summary.md (a Markdown table for the README) and
summary.csv in the search directory.

    python benchmarks/mnist32_search_summary.py [DIR]     # default benchmarks/results/mnist32_search
"""
import csv
import json
import os
import sys

COLUMNS = ("stage", "distance", "method", "tau", "step", "range", "width", "steps", "memorized (mean, min–max)",
           "matched distance", "nearest digits (median, min–max)", "t", "|λ|max start → end", "‖w‖ end", "diverged", "stage wall s")


def fmt(x):
    return "nan" if x is None else f"{x:.3g}"


def nearest(r):
    """Digits that are the nearest neighbour of some final sample (32 = all, 1 = collapse); "—" for a stage run
    before the measurement existed."""
    if "nearest_digits_median" not in r:
        return "—"
    return f"{r['nearest_digits_median']:g} ({r['nearest_digits_min']}–{r['nearest_digits_max']})"


def rows_of(stage_dir):
    result = json.load(open(os.path.join(stage_dir, "mnist32.json")))
    meta = dict(line.split(": ", 1) for line in open(os.path.join(stage_dir, "stage.txt")).read().splitlines())
    config = result["config"]
    for r in result["rows"]:
        yield {"stage": os.path.basename(stage_dir), "distance": r["distance"], "method": r["method"],
               "tau": f"{r['tau']:g}", "step": r["step"], "range": config["data_range"], "width": config["width"],
               "steps": config["steps"],
               "memorized (mean, min–max)": f"{r['memorized_fraction_mean']:.2f} ({r['memorized_fraction_min']:.2f}–"
                                             f"{r['memorized_fraction_max']:.2f})",
               "matched distance": fmt(r["mean_matched_distance_mean"]), "nearest digits (median, min–max)": nearest(r),
               "t": fmt(r["continuous_time_median"]),
               "|λ|max start → end": f"{fmt(r['stiffness_initial_median'])} → {fmt(r['stiffness_final_median'])}",
               "‖w‖ end": fmt(r["critic_norm_final_median"]), "diverged": f"{r['diverged']}/{r['seeds']}",
               "stage wall s": meta["wall_s"]}


def main(root="benchmarks/results/mnist32_search"):
    stages = sorted(d for d in os.listdir(root) if os.path.exists(os.path.join(root, d, "stage.txt")))
    rows = [row for d in stages for row in rows_of(os.path.join(root, d))]
    if not rows:
        raise SystemExit(f"no finished stage in {root} (run benchmarks/mnist32_search.sh first)")
    with open(os.path.join(root, "summary.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    escape = lambda s: str(s).replace("|", "\\|")
    lines = ["| " + " | ".join(map(escape, COLUMNS)) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(escape(r[c]) for c in COLUMNS) + " |" for r in rows]
    open(os.path.join(root, "summary.md"), "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main(*sys.argv[1:])
