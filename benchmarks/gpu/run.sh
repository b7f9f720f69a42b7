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
# The CUDA 13 runtime, cuBLAS and cuRAND the binary links: a PyTorch cu13 environment's copies
# (site-packages/nvidia/cu13/lib) when the system has none on the loader's path.
lib=$("$py" -c 'import nvidia, os
print(next((os.path.join(p, "cu13", "lib") for p in nvidia.__path__
            if os.path.isdir(os.path.join(p, "cu13", "lib"))), ""))' 2>/dev/null || true)
[[ -n $lib ]] && export LD_LIBRARY_PATH=$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
bin=${BIN:-target/cuda/release/proofstep}
# Carried as scripts/build-cuda.sh's xz copy (the binary alone exceeds some transfer limits).
if [[ ! -x $bin && -f target/cuda/proofstep.xz ]]; then
  bin=/tmp/proofstep-cuda
  xz -dc target/cuda/proofstep.xz > "$bin" && chmod +x "$bin"
fi
# Fail in seconds, not after minutes, when the binary cannot start here.
[[ -x $bin ]] || { echo "gpu: no $bin; build it with bash scripts/build-cuda.sh" >&2; exit 1; }
if missing=$(ldd "$bin" | grep 'not found'); then
  echo "gpu: $bin cannot find: $missing (put the CUDA 13 libraries on LD_LIBRARY_PATH)" >&2; exit 1
fi
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader >&2 ||
  { echo "gpu: nvidia-smi does not answer: no GPU or driver here" >&2; exit 1; }
exec "$py" benchmarks/gpu/check.py --binary "$bin" \
  --out "${OUT:-benchmarks/out/gpu}" "$@"
