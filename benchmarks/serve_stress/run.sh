#!/usr/bin/env bash
# `proofstep serve` under slow and flooding clients (see benchmarks/README.md, serve_stress):
# p50/p99 latency of normal requests with 0 and N slow clients, and the server's peak resident
# memory under a header/body flood.
# Usage: bash benchmarks/serve_stress/run.sh [--bin PROOFSTEP] [--model DIR] [stress.py flags]
# Without --bin it builds and measures this checkout's release binary; --bin measures another
# build (e.g. an older commit's) with the same clients. The default model is models/testworld-small.
set -euo pipefail
cd "$(dirname "$0")/../.."
args=("$@")
if [[ " $* " != *" --bin "* ]]; then
  cargo build --release --quiet --bin proofstep
  args+=(--bin target/release/proofstep)
fi
if [[ " $* " != *" --model "* ]]; then
  args+=(--model models/testworld-small)
fi
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
echo "machine: $(nproc) cores, $cpu; load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
mkdir -p benchmarks/out
out=benchmarks/out/serve_stress.jsonl
python3 benchmarks/serve_stress/stress.py "${args[@]}" | tee "$out.tmp"
mv "$out.tmp" "$out"
