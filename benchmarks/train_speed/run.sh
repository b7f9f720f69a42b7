#!/usr/bin/env bash
# Training tokens/s and peak memory of proofstep vs PyTorch/transformers on the same Llama
# configurations and batch (8 × 256 random ids, AdamW, clipping, fp32, 2 threads), run
# alternately in one session so load and thermal noise hit both (see README.md, "train_speed").
# Usage: [ROUNDS=2 STEPS=5 WARMUP=2] bash benchmarks/train_speed/run.sh [CONFIG...]
#        (default configs: llama-8m llama-25m; smollm2-135m defaults to 1 round of 3 steps)
# Needs: benchmarks/.venv with torch and transformers (python3 -m venv benchmarks/.venv &&
#        benchmarks/.venv/bin/pip install torch transformers).
set -euo pipefail
cd "$(dirname "$0")/../.."
py=benchmarks/.venv/bin/python
[[ -x "$py" ]] || { echo "train_speed: no $py; create it: python3 -m venv benchmarks/.venv && benchmarks/.venv/bin/pip install torch transformers" >&2; exit 1; }
configs=("$@"); [[ ${#configs[@]} -gt 0 ]] || configs=(llama-8m llama-25m)
cargo build --release --quiet -p train-speed
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
echo "machine: $(nproc) cores, $cpu; load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
mkdir -p benchmarks/out
out=benchmarks/out/train_speed.jsonl
: > "$out.tmp"
for config in "${configs[@]}"; do
  steps=${STEPS:-5}; warmup=${WARMUP:-2}; rounds=${ROUNDS:-2}
  [[ $config == smollm2-135m ]] && { steps=${STEPS:-3}; warmup=${WARMUP:-1}; rounds=${ROUNDS:-1}; }
  for round in $(seq "$rounds"); do
    RAYON_NUM_THREADS=2 target/release/train-speed --config "$config" --steps $steps --warmup $warmup >> "$out.tmp"
    OMP_NUM_THREADS=2 "$py" benchmarks/train_speed/hf.py --config "$config" --steps $steps --warmup $warmup --threads 2 >> "$out.tmp"
  done
done
mv "$out.tmp" "$out"
cat "$out"
