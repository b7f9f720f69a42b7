#!/usr/bin/env bash
# Checks per second of the file and server backends on the same test-world theorems, in one
# run (see benchmarks/README.md). Usage: bash benchmarks/check_speed/run.sh [--rounds N]
# Needs the test world: bash lean/mini/setup.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
lean=lean/mini/.toolchain/bin/lean
[[ -x "$lean" ]] || { echo "check_speed: no test-world Lean at $lean; run: bash lean/mini/setup.sh" >&2; exit 1; }
# Built into the main crate's target folder, reusing its compiled dependencies.
cargo build --quiet -p check-speed
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
echo "machine: $(nproc) cores, $cpu; $("$lean" --version)" >&2
mkdir -p benchmarks/out
out=benchmarks/out/check_speed.jsonl
target/debug/check-speed --lean "$lean" --lean-path lean/mini/build "$@" > "$out.tmp"
mv "$out.tmp" "$out"
cat "$out"
