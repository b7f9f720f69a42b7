#!/usr/bin/env bash
# Rebuilds the default model (models/testworld-small) from the committed test-world corpus:
# extract the tactic steps with Lean, format them, train a byte-level BPE tokenizer and a
# llama-tiny model from scratch on the train split. Run from the repository root after
# `bash lean/mini/setup.sh && cargo build --release`. WORK holds the intermediate files.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-target/release/proofstep}
WORK=${WORK:-/tmp/proofstep-default-model}
OUT=${OUT:-models/testworld-small}
STEPS=${STEPS:-1000}
CORPUS=${CORPUS:-data/testworld}
rm -rf "$WORK" && mkdir -p "$WORK"
"$BIN" extract "$CORPUS" --out "$WORK/extracted" --workers 2
"$BIN" data leandojo --input "$WORK/extracted" --out "$WORK/data"
"$BIN" tokenizer train --data "$WORK/data/proofstep-train.jsonl" --vocab-size 1000 --out "$WORK/tokenizer"
"$BIN" train --from_scratch llama-tiny --tokenizer "$WORK/tokenizer" \
  --train_data_path "$WORK/data/proofstep-train.jsonl" --valid_data_path "$WORK/data/proofstep-val.jsonl" \
  --output_dir "$WORK/model" --max_steps "$STEPS" --per_device_train_batch_size 32 \
  --learning_rate 3e-3 --warmup_steps 50 --logging_steps 50 --evaluation_strategy steps --eval_steps 500 \
  --max_eval_samples 200 --save_strategy no --model_max_length 512 --seed 0
mkdir -p "$OUT"
for f in config.json generation_config.json model.safetensors tokenizer.json tokenizer_config.json metrics.jsonl; do
  cp "$WORK/model/$f" "$OUT/$f"
done
echo "wrote $OUT"
