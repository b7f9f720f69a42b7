#!/usr/bin/env bash
# The pipeline benchmark on a corpus that automation does not close (benchmarks/README.md,
# section pipeline): `proofstep corpus generate --beyond-automation 60` (60 % rewriting chains
# and disjunction eliminations, 40 % the committed corpus's three families, same seed and
# knobs otherwise), a model trained from scratch on its extracted train split exactly as
# the default model is made (models/testworld-small/make.sh), the same architecture untrained,
# and the same searches, baselines and accuracy as run.sh, written to OUT; then a
# larger from-scratch model (llama-8m: 4 layers, hidden 256, the same tokenizer and data,
# learning rate 1e-3) searched and measured the same way, and with the automation list also
# tried at every state (--also-try). Llama-8m on 4x the theorems: beyond_data.sh. The
# fine-tuned SmolLM2 rows: CORPUS=$OUT/corpus OUT=$OUT bash benchmarks/pipeline/smollm2.sh.
# Usage: bash benchmarks/pipeline/beyond.sh   (needs bash lean/mini/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
source benchmarks/pipeline/lists.sh
OUT=${OUT:-benchmarks/out/beyond}
BIN=target/release/proofstep
cargo build --release --quiet
mkdir -p "$OUT"
rm -rf "$OUT/corpus"
"$BIN" corpus generate --out "$OUT/corpus" --count 3000 --seed 0 --depth 3 --hypotheses 4 \
  --distractors 2 --per-file 60 --held-out-percent 5 --beyond-automation 60
CORPUS="$OUT/corpus" WORK="$OUT/work" OUT="$OUT/model" bash models/testworld-small/make.sh
rm -rf "$OUT/model8m"
"$BIN" train --from_scratch llama-8m --tokenizer "$OUT/model/tokenizer.json" \
  --train_data_path "$OUT/work/data/proofstep-train.jsonl" --valid_data_path "$OUT/work/data/proofstep-val.jsonl" \
  --output_dir "$OUT/model8m" --max_steps 1000 --per_device_train_batch_size 32 \
  --learning_rate 1e-3 --warmup_steps 50 --logging_steps 50 --evaluation_strategy steps --eval_steps 500 \
  --max_eval_samples 200 --save_strategy no --model_max_length 512 --seed 0
rm -rf "$OUT/untrained"
"$BIN" train --from_scratch llama-tiny --tokenizer "$OUT/model/tokenizer.json" \
  --train_data_path "$OUT/work/data/proofstep-train.jsonl" --output_dir "$OUT/untrained" \
  --max_steps 1 --learning_rate 1e-12 --warmup_steps 0 --per_device_train_batch_size 2 \
  --evaluation_strategy no --save_strategy no --model_max_length 512 --seed 0
CORPUS="$OUT/corpus" OUT="$OUT" MODEL="$OUT/model" MODEL_UNTRAINED="$OUT/untrained" \
  PAIRS="$OUT/work/data/proofstep-test.jsonl" SVG=benchmarks/pipeline/budget_beyond.svg \
  TITLE="Beyond-automation corpus, test split" bash benchmarks/pipeline/run.sh
rm -f "$OUT"/pipeline_trained8m{,_retry,_auto_retry}.jsonl
target/release/pipeline-baseline "$OUT/corpus/test" "$OUT/pipeline_trained8m.jsonl" 32 --model "$OUT/model8m"
target/release/pipeline-baseline "$OUT/corpus/test" "$OUT/pipeline_trained8m_retry.jsonl" 32 --retry 0.8,1.2 --model "$OUT/model8m"
target/release/pipeline-baseline "$OUT/corpus/test" "$OUT/pipeline_trained8m_auto_retry.jsonl" 32 --retry 0.8,1.2 --model "$OUT/model8m" "${AUTO[@]}"
target/release/pipeline-accuracy "$OUT/model8m" 8 0 "$OUT/work/data/proofstep-test.jsonl" > "$OUT/pipeline_accuracy_8m.jsonl"
python3 benchmarks/pipeline/report.py "$OUT" benchmarks/pipeline/budget_beyond.svg "Beyond-automation corpus, test split"
