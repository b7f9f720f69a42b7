#!/usr/bin/env bash
# The pipeline benchmark on a corpus that automation does not close (benchmarks/README.md,
# section pipeline): `proofstep corpus generate --beyond-automation 60` (60 % rewriting chains
# and disjunction eliminations, 40 % the committed corpus's three families, same seed and
# knobs otherwise), a llama-tiny trained from scratch on its extracted train split exactly as
# the default model is made (models/testworld-small/make.sh), the same architecture untrained,
# and the same searches, baselines and accuracy as pipeline_eval.sh, written to OUT. The
# fine-tuned SmolLM2 rows: CORPUS=$OUT/corpus OUT=$OUT bash benchmarks/pipeline_smollm2.sh.
# Usage: bash benchmarks/pipeline_beyond.sh   (needs bash lean/mini/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-benchmarks/out/beyond}
BIN=target/release/proofstep
cargo build --release --quiet
mkdir -p "$OUT"
rm -rf "$OUT/corpus"
"$BIN" corpus generate --out "$OUT/corpus" --count 3000 --seed 0 --depth 3 --hypotheses 4 \
  --distractors 2 --per-file 60 --held-out-percent 5 --beyond-automation 60
CORPUS="$OUT/corpus" WORK="$OUT/work" OUT="$OUT/model" bash models/testworld-small/make.sh
rm -rf "$OUT/untrained"
"$BIN" train --from_scratch llama-tiny --tokenizer "$OUT/model/tokenizer.json" \
  --train_data_path "$OUT/work/data/proofstep-train.jsonl" --output_dir "$OUT/untrained" \
  --max_steps 1 --learning_rate 1e-12 --warmup_steps 0 --per_device_train_batch_size 2 \
  --evaluation_strategy no --save_strategy no --model_max_length 512 --seed 0
CORPUS="$OUT/corpus" OUT="$OUT" MODEL="$OUT/model" MODEL_UNTRAINED="$OUT/untrained" \
  PAIRS="$OUT/work/data/proofstep-test.jsonl" SVG=benchmarks/pipeline_budget_beyond.svg \
  TITLE="Beyond-automation corpus, test split" bash benchmarks/pipeline_eval.sh
