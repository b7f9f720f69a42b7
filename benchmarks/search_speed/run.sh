#!/usr/bin/env bash
# Search speed: expansions per second and the split of wall time between the model and Lean, for
# the file and server backends on the same test-world theorems, in one run (rounds alternate).
# See benchmarks/README.md, section search_speed. Usage: bash benchmarks/search_speed/run.sh [ROUNDS]
# Needs the test world (bash lean/mini/setup.sh) and ../shared beside the repository.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds="${1:-3}"
lean=lean/mini/.toolchain/bin/lean
[[ -x "$lean" ]] || { echo "search_speed: no test-world Lean at $lean; run: bash lean/mini/setup.sh" >&2; exit 1; }
work="$PWD/target/search_speed"
rm -rf "$work" && mkdir -p "$work/theorems" benchmarks/out
cargo build --release --quiet
# 1. A real model: replay the test world's proofs on Lean to get (state, tactic) pairs, train a
#    tiny from-scratch Llama on them (tests/search_speed.rs, ignored by plain `cargo test`).
PROOFSTEP_BENCH_DIR="$work" cargo test --release --quiet --test search_speed -- --ignored >&2
# 2. The theorems searched: the quick-start file and the tactic samples.
cp lean/mini/Example.lean lean/mini/examples/Tactics.lean "$work/theorems/"
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
echo "machine: $(nproc) cores, $cpu; $("$lean" --version)" >&2
# The model alone (--no-also-try): the workload as first recorded, no automation list.
flags=(--model "$work/model" --expansions 16 --samples 8 --temperatures 1.0 --max-tokens 48 --seed 0 --no-also-try)
for round in $(seq 1 "$rounds"); do
  for run in file server server-no-pipeline; do
    case "$run" in
      file) extra=(--backend file) ;;
      server) extra=(--backend server) ;;
      server-no-pipeline) extra=(--backend server --no-pipeline) ;;
    esac
    target/release/proofstep eval --dataset "$work/theorems" --out "$work/$run-$round.jsonl" \
      "${flags[@]}" "${extra[@]}" >/dev/null 2>"$work/$run-$round.log"
  done
done
python3 benchmarks/search_speed/summarize.py "$work" "$rounds" | tee benchmarks/out/search_speed.jsonl
