#!/usr/bin/env bash
# Chooses prove/eval's default search settings on the validation split: the same model searched
# with each candidate setting over data/testworld/val, one results file per setting, then a
# table of pass rates (and mean time per theorem). The first four are the model alone
# (--no-also-try); the last two add the fixed tactic lists of benchmarks/pipeline/lists.sh at
# every state (--also-try). Usage:
#   bash benchmarks/defaults/run.sh [MODEL_DIR]   (default: models/testworld-small)
# Needs `bash lean/mini/setup.sh` and a release build (`cargo build --release`).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-target/release/proofstep}
MODEL=${1:-models/testworld-small}
OUT=${OUT:-benchmarks/out/defaults}
VAL=${VAL:-data/testworld/val}
mkdir -p "$OUT"
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
echo "machine: $(nproc) cores, $cpu; model $MODEL; val $VAL" >&2
source benchmarks/pipeline/lists.sh
AUTO_TRY=(); for t in "${AUTO[@]}"; do AUTO_TRY+=(--also-try "$t"); done
LEMMAS_TRY=(); for t in "${LEMMAS[@]}"; do LEMMAS_TRY+=(--also-try "$t"); done
run() { # NAME FLAGS...  (RUNS="name ..." runs only those)
  local name=$1; shift
  [[ -z ${RUNS:-} || " $RUNS " == *" $name "* ]] || return 0
  "$BIN" eval --dataset "$VAL" --model "$MODEL" --out "$OUT/$name.jsonl" --workers 2 \
    --lean-workers 2 --time-limit 120 "$@" > "$OUT/$name.log" 2>&1 || { echo "$name failed" >&2; tail -5 "$OUT/$name.log" >&2; }
  python3 - "$OUT/$name.summary.json" "$name" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"{sys.argv[2]:<24} {s['proved']:>4}/{s['theorems']:<4} {100*s['pass_rate']:5.1f} %  ({100*s['ci95'][0]:.1f}-{100*s['ci95'][1]:.1f})  mean {s['mean_time_secs']:.1f} s")
PY
}
run plain-8x0.5            --expansions 100 --samples 8 --temperatures 0.5 --no-retries --no-also-try
run retries                --expansions 100 --samples 8 --temperatures 0.5 --retry-temperatures 0.8,1.2 --no-also-try
run wide-retries           --expansions 100 --samples 8 --temperatures 0.5,1.0 --retry-temperatures 1.2 --no-also-try
run wide16-retries         --expansions 100 --samples 16 --temperatures 0.5,1.0 --retry-temperatures 1.2 --no-also-try
run retries+auto           --expansions 100 --samples 8 --temperatures 0.5 --retry-temperatures 0.8,1.2 "${AUTO_TRY[@]}"
run retries+lemmas         --expansions 100 --samples 8 --temperatures 0.5 --retry-temperatures 0.8,1.2 "${LEMMAS_TRY[@]}"
run retries6+auto          --expansions 100 --samples 8 --temperatures 0.5 --retry-temperatures 0.8,1.2,1.2,1.2,1.5,1.5 "${AUTO_TRY[@]}"
run wide16-retries4+auto   --expansions 100 --samples 16 --temperatures 0.5 --retry-temperatures 0.8,1.2,1.2,1.5 "${AUTO_TRY[@]}"
run wide16-retries4+lemmas --expansions 100 --samples 16 --temperatures 0.5 --retry-temperatures 0.8,1.2,1.2,1.5 "${LEMMAS_TRY[@]}"
