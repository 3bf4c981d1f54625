#!/usr/bin/env bash
# GPU check of minimax, in one call on a machine with an accelerator and no network.
#
# Expects a preinstalled accelerator build of jax (e.g. CUDA jax 0.11 on Python 3.12) with flax,
# optax, chex and orbax-checkpoint; installs minimax from this checkout without fetching anything
# (ott-jax is not needed: the benchmark's exact couplings use optax's Hungarian solver). Writes
# bench.json (S = 1, 64, 1024 seeds of the MNIST-32 extragradient sweep), then, if time is left,
# the full `minimax mnist32` run, under $OUT (default ./device-results).
#
#   bash benchmarks/device_check.sh            # the real check (well under 8 minutes)
#   DEVICE_CHECK_QUICK=1 bash benchmarks/device_check.sh   # a small dry run, e.g. on a CPU
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-./device-results}
mkdir -p "$OUT"
start=$(date +%s)
log() { echo "[device_check $(( $(date +%s) - start ))s] $*" | tee -a "$OUT/device_check.log"; }

if ! python -m pip install --quiet --no-deps --no-build-isolation . >> "$OUT/device_check.log" 2>&1; then
  log "pip install --no-deps failed; using the checkout through PYTHONPATH"
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi
python - <<'PY' 2>&1 | tee -a "$OUT/device_check.log"
import jax, sys
print("python", sys.version.split()[0], "jax", jax.__version__, "backend", jax.default_backend(), jax.devices())
PY

if [ "${DEVICE_CHECK_QUICK:-0}" = "1" ]; then
  seeds=(1 8); steps=5; repeats=1; mnist_args=(--quick --steps 20)
else
  seeds=(1 64 1024); steps=50; repeats=5; mnist_args=()
fi
log "bench: seeds ${seeds[*]}, $steps steps, $repeats repeats"
timeout 420 python -m minimax.cli bench --seeds "${seeds[@]}" --steps "$steps" --repeats "$repeats" \
  --torch-steps 1 --strategies vmap map8 --breakdown --out "$OUT" 2>&1 | tee -a "$OUT/device_check.log"
log "bench exit status ${PIPESTATUS[0]}"

elapsed=$(( $(date +%s) - start ))
if [ "$elapsed" -lt 300 ]; then
  log "mnist32 ${mnist_args[*]:-(full size)}"
  timeout $(( 470 - elapsed )) python -m minimax.cli mnist32 "${mnist_args[@]}" --checkpoint-every 0 --out "$OUT" \
    2>&1 | tail -n 25 | tee -a "$OUT/device_check.log"
  log "mnist32 exit status ${PIPESTATUS[0]}"
else
  log "skipped mnist32: ${elapsed}s used"
fi
log "done"
