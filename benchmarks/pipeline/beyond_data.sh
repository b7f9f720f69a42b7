#!/usr/bin/env bash
# More data instead of more epochs (benchmarks/README.md, section pipeline, beyond automation):
# the beyond-automation corpus generated with COUNT theorems (default 12,000) instead of 3,000,
# same seed and knobs. The generator draws theorems in order and splits them by a hash of the
# name, so the first 3,000 are the 3,000-theorem corpus and its 137 test theorems keep their
# split (and no statement repeats): llama-8m trained on the larger train split is searched on
# the same test split as beyond.sh's rows. Needs beyond.sh's OUT (the corpus
# and the tokenizer); writes OUT/TAG and OUT/pipeline_trained8m_TAG{,_retry,_auto_retry}.jsonl
# (the last with the automation list also tried at every state), TAG defaulting to "more".
# Usage: bash benchmarks/pipeline/beyond_data.sh   (needs bash lean/mini/setup.sh)
#        COUNT=24000 STEPS=4000 TAG=more8 bash benchmarks/pipeline/beyond_data.sh   (8x, longer)
set -euo pipefail
cd "$(dirname "$0")/../.."
source benchmarks/pipeline/lists.sh
OUT=${OUT:-benchmarks/out/beyond}
COUNT=${COUNT:-12000}
STEPS=${STEPS:-2000}
TAG=${TAG:-more}
BIN=target/release/proofstep
cargo build --release --quiet
cargo build --release --quiet -p pipeline-baseline
MORE="$OUT/$TAG"
rm -rf "$MORE" && mkdir -p "$MORE"
"$BIN" corpus generate --out "$MORE/corpus" --count "$COUNT" --seed 0 --depth 3 --hypotheses 4 \
  --distractors 2 --per-file 60 --held-out-percent 5 --beyond-automation 60
"$BIN" extract "$MORE/corpus" --out "$MORE/extracted" --workers 2
"$BIN" data leandojo --input "$MORE/extracted" --out "$MORE/data"
"$BIN" train --from_scratch llama-8m --tokenizer "$OUT/model/tokenizer.json" \
  --train_data_path "$MORE/data/proofstep-train.jsonl" --valid_data_path "$MORE/data/proofstep-val.jsonl" \
  --output_dir "$MORE/model8m" --max_steps "$STEPS" --per_device_train_batch_size 32 \
  --learning_rate 1e-3 --warmup_steps 50 --logging_steps 100 --evaluation_strategy steps --eval_steps 500 \
  --max_eval_samples 400 --save_strategy steps --save_steps 500 --save_total_limit 2 \
  --load_best_model_at_end true --model_max_length 512 --seed 0
rm -f "$OUT"/pipeline_trained8m_${TAG}{,_retry,_auto_retry}.jsonl
target/release/pipeline-baseline "$OUT/corpus/test" "$OUT/pipeline_trained8m_${TAG}_retry.jsonl" 32 --retry 0.8,1.2 --model "$MORE/model8m"
target/release/pipeline-baseline "$OUT/corpus/test" "$OUT/pipeline_trained8m_${TAG}.jsonl" 32 --model "$MORE/model8m"
target/release/pipeline-baseline "$OUT/corpus/test" "$OUT/pipeline_trained8m_${TAG}_auto_retry.jsonl" 32 --retry 0.8,1.2 --model "$MORE/model8m" "${AUTO[@]}"
target/release/pipeline-accuracy "$MORE/model8m" 8 0 "$OUT/work/data/proofstep-test.jsonl" > "$OUT/pipeline_accuracy_8m_${TAG}.jsonl"
python3 benchmarks/pipeline/report.py "$OUT" benchmarks/pipeline/budget_beyond.svg "Beyond-automation corpus, test split"
