#!/usr/bin/env bash
# Does the default prover prove what it has not seen? (benchmarks/README.md, generalization.)
# The default prover (no tuning flag: the settings chosen on val by benchmarks/defaults/run.sh,
# the default list — core automation and the Nat rewrites — tried beside the model) and the model alone
# (--no-also-try) on four held-out sets the model was never trained on:
#   - data/testworld/test   the committed corpus's random test split,
#   - data/testworld/novel  its novel-shape split (no goal shape of it occurs in train, nor in the
#                           default model's own training corpus: make.sh --exclude-shapes),
#   - lean/mini/examples/Handwritten.lean  textbook-style exercises written by hand,
#   - data/beyond/novel     the novel-shape split of the beyond-automation corpus (none of its goal
#                           shapes in the default model's training corpus either);
# beside the fixed tactic lists of the pipeline benchmark (lists.sh) searched at the same budget
# (100 expansions); the default list of prove/eval is the strongest list (LEMMAS), so the
# default prover is the model with it, and the model_auto row (LEMMAS passed as --also-try) is
# only for models or binaries of before that default. Then report.py: pass rates with 95 %
# Wilson intervals, the model over the strongest list with a 95 % paired bootstrap interval, and
# what model + list leaves unproved.
# Usage: bash benchmarks/generalization/run.sh [MODEL_DIR]  (needs bash lean/mini/setup.sh and
# cargo build --release)
set -euo pipefail
cd "$(dirname "$0")/../.."
source benchmarks/pipeline/lists.sh
BIN=${BIN:-target/release/proofstep}
MODEL=${1:-models/testworld-small}
OUT=${OUT:-benchmarks/out/generalization}
SETS=${SETS:-"test=data/testworld/test novel=data/testworld/novel handwritten=lean/mini/examples/Handwritten.lean beyond-novel=data/beyond/novel"}
# ROWS="model model_only lists" (the default) runs those rows; "model_auto" adds the explicit
# --also-try row.
ROWS=${ROWS:-"model model_only lists"}
row() { [[ " $ROWS " == *" $1 "* ]]; }
ALSO_TRY=()
for tactic in "${LEMMAS[@]}"; do ALSO_TRY+=(--also-try "$tactic"); done
mkdir -p "$OUT"
cargo build --release --quiet -p pipeline-baseline
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
echo "machine: $(nproc) cores, $cpu; model $MODEL" | tee "$OUT/machine.txt" >&2
for entry in $SETS; do
  name=${entry%%=*}; set_path=${entry#*=}
  row model && "$BIN" eval --dataset "$set_path" --model "$MODEL" --out "$OUT/$name.model.jsonl" \
    --workers 2 > "$OUT/$name.model.log" 2>&1
  row model_only && "$BIN" eval --dataset "$set_path" --model "$MODEL" --out "$OUT/$name.model_only.jsonl" \
    --workers 2 --no-also-try > "$OUT/$name.model_only.log" 2>&1
  row model_auto && "$BIN" eval --dataset "$set_path" --model "$MODEL" --out "$OUT/$name.model_auto.jsonl" \
    --workers 2 "${ALSO_TRY[@]}" > "$OUT/$name.model_auto.log" 2>&1
  row lists || continue
  for list in AUTO LEMMAS; do
    declare -n tactics=$list
    rm -f "$OUT/$name.list_${list,,}.jsonl"
    target/release/pipeline-baseline "$set_path" "$OUT/$name.list_${list,,}.jsonl" 100 "${tactics[@]}"
  done
done
python3 benchmarks/generalization/report.py "$OUT" $SETS
