#!/usr/bin/env bash
# Rebuilds the default model (models/testworld-small): generate a training corpus of test-world
# theorems (40 % of them rewriting chains and case splits that automation does not close) that
# holds none of the committed corpora's val, test or novel-shape statements (data/testworld and
# data/beyond, up to renaming), none of their novel splits' goal shapes and none of the
# hand-written evaluation file,
# extract its tactic steps with Lean, train a byte-level BPE tokenizer and a 4-layer Llama from
# scratch on them. Run from the repository root after `bash lean/mini/setup.sh && cargo build
# --release`. WORK holds the intermediate files; STEPS and COUNT shrink it for a quick try;
# CORPUS names an existing corpus to train on instead (benchmarks/pipeline/beyond.sh); DATA_ONLY=1
# stops once the training examples are written (benchmarks/iterate/run.sh replays them).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-target/release/proofstep}
WORK=${WORK:-/tmp/proofstep-default-model}
OUT=${OUT:-models/testworld-small}
STEPS=${STEPS:-6000}
COUNT=${COUNT:-24000}
CORPUS=${CORPUS:-$WORK/corpus}
mkdir -p "$WORK"
if [ ! -f "$CORPUS/manifest.json" ]; then
  "$BIN" corpus generate --out "$CORPUS" --count "$COUNT" --seed 2 --per-file 60 \
    --held-out-percent 1 --novel-percent 0 --beyond-automation 40 \
    --exclude data/testworld/val --exclude data/testworld/test --exclude data/testworld/novel \
    --exclude data/beyond/val --exclude data/beyond/test --exclude data/beyond/novel \
    --exclude lean/mini/examples/Handwritten.lean --exclude lean/mini/Example.lean \
    --exclude-shapes data/testworld/novel --exclude-shapes data/beyond/novel
fi
if [ ! -f "$WORK/data/proofstep-train.jsonl" ]; then
  "$BIN" extract "$CORPUS" --out "$WORK/extracted" --workers 2
  "$BIN" data leandojo --input "$WORK/extracted" --out "$WORK/data"
fi
if [ "${DATA_ONLY:-0}" = 1 ]; then
  echo "wrote $WORK/data"
  exit 0
fi
if [ ! -f "$WORK/tokenizer/tokenizer.json" ]; then
  "$BIN" tokenizer train --data "$WORK/data/proofstep-train.jsonl" --vocab-size 2000 --out "$WORK/tokenizer"
fi
cat > "$WORK/arch.json" <<'EOF'
{"model_type": "llama", "hidden_size": 256, "intermediate_size": 1024, "num_hidden_layers": 4,
 "num_attention_heads": 4, "num_key_value_heads": 4, "tie_word_embeddings": true,
 "max_position_embeddings": 512, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "hidden_act": "silu"}
EOF
"$BIN" train --config_json "$WORK/arch.json" --tokenizer "$WORK/tokenizer" \
  --train_data_path "$WORK/data/proofstep-train.jsonl" --valid_data_path "$WORK/data/proofstep-val.jsonl" \
  --output_dir "$WORK/model" --max_steps "$STEPS" --per_device_train_batch_size 32 \
  --learning_rate 2e-3 --warmup_steps 100 --logging_steps 50 --evaluation_strategy steps --eval_steps 500 \
  --max_eval_samples 300 --save_strategy steps --save_steps 500 --model_max_length 512 --seed 0
mkdir -p "$OUT"
for f in config.json generation_config.json model.safetensors tokenizer.json tokenizer_config.json metrics.jsonl; do
  cp "$WORK/model/$f" "$OUT/$f"
done
echo "wrote $OUT"
