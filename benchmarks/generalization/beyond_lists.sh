#!/usr/bin/env bash
# Issue #20's "a model trained here proves at least 2x what the strongest fixed list proves on
# the novel-shape split of a beyond-automation corpus", on a corpus the lists cannot do
# (benchmarks/README.md, generalization, "beyond the lists"). data/beyond is beyond core
# automation but not beyond the strongest list: its rewriting chains use exactly the Nat lemmas
# that list holds, so it proves 93.6 % of data/beyond/novel and 2x cannot be reached there.
# This corpus is data/beyond's command with --beyond-lists 60: 60 % of the theorems are the
# `split` family (a disjunction to split before a nest of ∧/∨ can be built; no fixed list
# splits a hypothesis), the rest drawn as data/beyond's are. A model is trained from scratch on
# its extracted train split exactly as the default model is made (models/testworld-small/make.sh,
# STEPS updates), then run.sh measures it on the novel-shape split (no goal shape of it in
# train) beside the fixed lists at the same budget, with report.py's paired intervals.
# ITERATE=1 then runs expert iteration from that model (benchmarks/iterate/run.sh, ROUNDS
# rounds, 3 by default) on a pool of POOL (200) statements drawn by the corpus's own generator
# settings (none of its val, test or novel statements up to renaming, no novel goal shape),
# the corpus's train examples replayed, validated on its val split; the model alone at round 0
# and at the last round on the novel split, and the last round's model alone over the fixed
# lists (report.py, set "lists-novel-iterated"; the lists rows must have run).
# Usage: bash benchmarks/generalization/beyond_lists.sh   (needs bash lean/mini/setup.sh and
# cargo build --release; OUT, STEPS, BIN, ITERATE, POOL, ROUNDS and SETS (run.sh's) may be set;
# a killed run keeps its corpus, model and iterate rounds and measures again)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-target/release/proofstep}
OUT=${OUT:-benchmarks/out/beyond-lists}
STEPS=${STEPS:-2000}
# The generator's settings, one copy for the corpus and for ITERATE's pool of its kind.
SHAPE=(--depth 3 --hypotheses 4 --distractors 2 --per-file 60)
FAMILIES=(--beyond-automation 60 --beyond-lists 60)
mkdir -p "$OUT"
if [ ! -f "$OUT/corpus/manifest.json" ]; then
  "$BIN" corpus generate --out "$OUT/corpus" --count 3000 --seed 0 "${SHAPE[@]}" \
    --held-out-percent 5 "${FAMILIES[@]}" --novel-percent 5
fi
if [ ! -f "$OUT/model/model.safetensors" ]; then
  CORPUS="$OUT/corpus" WORK="$OUT/work" OUT="$OUT/model" STEPS="$STEPS" BIN="$BIN" \
    bash models/testworld-small/make.sh
fi
SETS=${SETS:-"lists-novel=$OUT/corpus/novel"} OUT="$OUT" BIN="$BIN" \
  bash benchmarks/generalization/run.sh "$OUT/model"
if [[ ${ITERATE:-0} == 1 ]]; then
  IT="$OUT/iterate"
  if [ ! -f "$IT/pool/manifest.json" ]; then
    "$BIN" corpus generate --out "$IT/pool" --count "${POOL:-200}" --seed 7 "${SHAPE[@]}" \
      --held-out-percent 0 "${FAMILIES[@]}" --novel-percent 0 --exclude "$OUT/corpus/val" --exclude "$OUT/corpus/test" \
      --exclude "$OUT/corpus/novel" --exclude-shapes "$OUT/corpus/novel" --statements-only
  fi
  ROUNDS=${ROUNDS:-3}
  # OUT last: a prefix assignment sees the ones before it. Round 0 alone is measured again
  # under run.sh's names (the lists-novel.model_only row above is the same model and settings).
  BIN="$BIN" ROUNDS="$ROUNDS" VAL="$OUT/corpus/val" TEST="$OUT/corpus/novel" WORK="$OUT/work" \
    CORPUS="$OUT/corpus" DEFAULT=0 ALONE=1 OUT="$IT" bash benchmarks/iterate/run.sh "$OUT/model"
  for list in list_auto list_lemmas; do
    [ -f "$OUT/lists-novel.$list.jsonl" ] && cp "$OUT/lists-novel.$list.jsonl" "$OUT/lists-novel-iterated.$list.jsonl"
  done
  cp "$IT/test.alone.round-$ROUNDS.jsonl" "$OUT/lists-novel-iterated.model_only.jsonl"
  python3 benchmarks/generalization/report.py "$OUT" "lists-novel-iterated=$OUT/corpus/novel"
fi
