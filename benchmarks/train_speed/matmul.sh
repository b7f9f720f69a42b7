#!/usr/bin/env bash
# Matmul throughput, candle (gemm crate) vs PyTorch, on llama-8m's training shapes, 2 threads,
# one after the other (see README.md, "train_speed"). Writes benchmarks/out/train_speed_matmul.jsonl.
# Usage: bash benchmarks/train_speed/matmul.sh   (needs benchmarks/.venv, as run.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
py=benchmarks/.venv/bin/python
[[ -x "$py" ]] || { echo "train_speed_matmul: no $py; see benchmarks/train_speed/run.sh for how to create it" >&2; exit 1; }
cargo build --release --quiet -p train-speed --bin matmul
echo "machine: $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
mkdir -p benchmarks/out
out=benchmarks/out/train_speed_matmul.jsonl
{ RAYON_NUM_THREADS=2 target/release/matmul; OMP_NUM_THREADS=2 "$py" benchmarks/train_speed/matmul.py --threads 2; } > "$out"
cat "$out"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
