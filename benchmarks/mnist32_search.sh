#!/usr/bin/env bash
# The MNIST-32 search behind the README's "Searched" paragraph: each stage is one `minimax mnist32` run with
# 16 seeds (vmapped), written to benchmarks/results/mnist32_search/<stage>/ with its wall time and the load
# average before and after (stage.txt). Run from the repository root on a quiet machine:
#   bash benchmarks/mnist32_search.sh            # every stage
#   bash benchmarks/mnist32_search.sh cap zi     # only the named stages
# then `python benchmarks/mnist32_search_summary.py` for the table.
set -euo pipefail
OUT=${OUT:-benchmarks/results/mnist32_search}
declare -A STAGE=(
  # JS and the non-saturating JS (ns) with the step cap lifted: η = c/|λ|max up to 10 (default cap 0.1)
  [cap]="--distances js ns --methods gda eg extra_adam --max-step 10"
  # zero-infinity with |λ|max re-estimated at every step (the default refreshes once per record block,
  # every steps/25 = 80 steps, and ZI's stiffness outgrows a stale step within a block)
  [zi]="--distances zero_infinity --methods gda eg --tau 1 5 --steps 400 --records 20 --refresh-every 1"
  # pixels in [-1, 1] (tanh generator)
  [symmetric]="--data-range symmetric --distances js ns --methods eg --max-step 10"
  [symmetric_zi]="--data-range symmetric --distances zero_infinity --methods eg --steps 400 --records 20 --refresh-every 1"
  # hidden width 512 for both MLPs
  [width512]="--width 512 --distances js ns --methods eg --max-step 10 --steps 1000"
  [width512_zi]="--width 512 --distances zero_infinity --methods eg --steps 400 --records 20 --refresh-every 1"
  # hidden width 1 024 (about 2.8x width 512's FLOPs per step); 200 steps, past width 512's best matched distance (step 20)
  [width1024_zi]="--width 1024 --distances zero_infinity --methods eg --steps 200 --records 20 --refresh-every 1"
  # 5x the horizon of the zi stage for its best configuration (ZI-EG, tau 1), still refreshed every step
  [long_zi]="--distances zero_infinity --methods eg --tau 1 --steps 2000 --records 25 --refresh-every 1"
  # half the step scale (c = 0.25) for ZI-EG, with twice the zi stage's steps (aiming at about the same continuous time)
  [small_c_zi]="--distances zero_infinity --methods eg --tau 1 --step-scale 0.25 --steps 800 --records 20 --refresh-every 1"
  # c = 0.1, with 5x the zi stage's steps (aiming at about the same continuous time)
  [smaller_c_zi]="--distances zero_infinity --methods eg --tau 1 --step-scale 0.1 --steps 2000 --records 25 --refresh-every 1"
  # a slower critic: tau = 0.5 (Λ_τ doubles the generator's step) with c = 0.25, so the generator's step is the zi
  # stage's 0.5/|λ|max and the critic's half of it
  [slow_critic_zi]="--distances zero_infinity --methods eg --tau 0.5 --step-scale 0.25 --steps 800 --records 20 --refresh-every 1"
  # 5x the horizon for the one configuration that moves (ns-EG)
  [long]="--distances ns --methods eg --max-step 10 --steps 10000"
)
ORDER=(cap zi long_zi long symmetric symmetric_zi width512_zi width512 width1024_zi small_c_zi smaller_c_zi slow_critic_zi)
for name in "${@:-${ORDER[@]}}"; do
  [[ -v STAGE[$name] ]] || { echo "unknown stage $name (known: ${ORDER[*]})" >&2; exit 2; }
  dir="$OUT/$name"; mkdir -p "$dir"
  args="${STAGE[$name]} --seeds 16 --checkpoint-every 0 --out $dir"
  before=$(cut -d' ' -f1-3 /proc/loadavg); start=$(date +%s)
  # the log without the progress bar's redraws
  minimax mnist32 $args 2>&1 | tr '\r' '\n' | grep -v 'step/s\|s/step\|?step' > "$dir/log.txt"
  wall=$(( $(date +%s) - start ))
  printf 'command: minimax mnist32 %s\nwall_s: %d\nload_before: %s\nload_after: %s\n' \
    "$args" "$wall" "$before" "$(cut -d' ' -f1-3 /proc/loadavg)" > "$dir/stage.txt"
  echo "$name: ${wall}s"
done
