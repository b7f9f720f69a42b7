#!/usr/bin/env bash
# Expert iteration, measured (issue 20; benchmarks/README.md, "iterate"): `proofstep iterate` from
# the default model for ROUNDS (3) rounds on a pool of POOL (300) beyond-automation statements with
# no proofs (`corpus generate --statements-only`; none of them a val, test or novel statement of the
# committed corpora up to renaming, no novel split's goal shape, none of the hand-written file),
# measured on VAL (data/beyond/val) every round; then round 0 (the starting model) and round
# ROUNDS on the novel-shape test split TEST (data/beyond/novel) at the same budget (the default
# prover, as iterate searches; ALONE=1 adds the model alone, --no-also-try) and the report: pass
# rates with Wilson intervals, the change with a 95 % paired bootstrap interval. BASE=1 replays the
# starting model's own training examples (rebuilt by `DATA_ONLY=1 models/testworld-small/make.sh`,
# the same seed, so the same examples) beside the found proofs in every round's fine-tune, as
# expert iteration does to keep what the model knew; BASE=0 learns from the found proofs alone.
# FOUND_SHARE (iterate's default, 0.5) is the share of each fine-tune's examples the found proofs
# take beside the replayed ones. DEFAULT=0 skips the default prover's test runs (ALONE=1 alone).
# Usage: bash benchmarks/iterate/run.sh [MODEL_DIR]  (needs bash lean/mini/setup.sh and
# cargo build --release). A killed run resumes (iterate resumes; finished evals are kept).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-target/release/proofstep}
MODEL=${1:-models/testworld-small}
OUT=${OUT:-benchmarks/out/iterate}
POOL=${POOL:-300}
ROUNDS=${ROUNDS:-3}
VAL=${VAL:-data/beyond/val}
TEST=${TEST:-data/beyond/novel}
BASE=${BASE:-1}
FOUND_SHARE=${FOUND_SHARE:-0.5}
mkdir -p "$OUT"
base=()
if [[ $BASE == 1 ]]; then
  WORK=${WORK:-/tmp/proofstep-default-model}
  [[ -f $WORK/data/proofstep-train.jsonl ]] || WORK=$WORK DATA_ONLY=1 bash models/testworld-small/make.sh >&2
  base=(--base-examples "$WORK/data/proofstep-train.jsonl")
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); model $MODEL" | tee "$OUT/machine.txt" >&2
if [[ ! -f $OUT/pool/manifest.json ]]; then
  "$BIN" corpus generate --out "$OUT/pool" --count "$POOL" --seed 7 --per-file 60 \
    --held-out-percent 0 --novel-percent 0 --beyond-automation 60 --statements-only \
    --exclude data/beyond/val --exclude data/beyond/test --exclude data/beyond/novel \
    --exclude data/testworld/val --exclude data/testworld/test --exclude data/testworld/novel \
    --exclude lean/mini/examples/Handwritten.lean --exclude lean/mini/Example.lean \
    --exclude-shapes data/beyond/novel --exclude-shapes data/testworld/novel >&2
fi
"$BIN" iterate --model "$MODEL" --statements "$OUT/pool/train" --val "$VAL" --rounds "$ROUNDS" \
  --out "$OUT/run" --workers 2 --found-share "$FOUND_SHARE" "${base[@]}" >&2
kinds=()
[[ ${DEFAULT:-1} == 1 ]] && kinds+=(default)
[[ ${ALONE:-0} == 1 ]] && kinds+=(alone)
for kind in "${kinds[@]}"; do
  flags=()
  [[ $kind == alone ]] && flags=(--no-also-try)
  for k in 0 "$ROUNDS"; do
    model=$MODEL
    [[ $k == 0 ]] || model=$OUT/run/round-$k/model
    summary=$OUT/test.$kind.round-$k.summary.json
    if [[ -f $summary ]]; then
      # A finished test run is kept unless it is older than the round's model in this run
      # (the rounds were run again): then it may have measured another model.
      [[ $summary -nt $OUT/run/round-$k/model/model.safetensors ]] && continue
      rm -f "$OUT/test.$kind.round-$k".*
    fi
    "$BIN" eval --dataset "$TEST" --model "$model" --out "$OUT/test.$kind.round-$k.jsonl" \
      --workers 2 "${flags[@]}" > "$OUT/test.$kind.round-$k.log" 2>&1
  done
done
python3 benchmarks/iterate/report.py "$OUT" "$ROUNDS" "${kinds[@]}"
