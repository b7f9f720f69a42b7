#!/usr/bin/env bash
# The GPU check of the CUDA build (benchmarks/README.md, "gpu"; check.py says what it measures).
# On a machine with one NVIDIA GPU, PyTorch and transformers (its own), from the repository
# root with the binary built by scripts/build-cuda.sh (carried there if built elsewhere):
#   bash benchmarks/gpu/run.sh                 # JSON lines in $OUT/gpu.jsonl (default benchmarks/out/gpu)
#   QUICK=1 bash benchmarks/gpu/run.sh         # tiny shapes on the CPU: checks the script, no GPU needed
# BIN overrides the binary (default target/cuda/release/proofstep; with QUICK=1 target/release/proofstep).
set -euo pipefail
cd "$(dirname "$0")/../.."
py=${PYTHON:-python3}
if [[ -n ${QUICK:-} ]]; then
  [[ -x benchmarks/.venv/bin/python ]] && py=benchmarks/.venv/bin/python
  exec "$py" benchmarks/gpu/check.py --binary "${BIN:-target/release/proofstep}" \
    --out "${OUT:-benchmarks/out/gpu-quick}" --quick "$@"
fi
exec "$py" benchmarks/gpu/check.py --binary "${BIN:-target/cuda/release/proofstep}" \
  --out "${OUT:-benchmarks/out/gpu}" "$@"
