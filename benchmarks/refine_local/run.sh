#!/usr/bin/env bash
# Whole proofs from a local model, with and without repair (benchmarks/README.md, refine_local):
# a from-scratch Llama (the default model's architecture) trained on (statement → whole proof)
# pairs and synthesized repairs (`proofstep data whole-proofs --repairs 1`, the compact prompts
# first.txt / repair.txt beside this script) of a generated corpus that holds none of the
# evaluated theorems up to renaming nor the novel splits' goal shapes; served by
# `proofstep serve` and asked by `eval --mode refine` through /v1/completions, on each set of
# SETS at the same K model calls per theorem:
#   pass@K         K independent whole proofs (--attempts K --rounds 0),
#   refine@K       K/2 attempts, each with one repair (--attempts K/2 --rounds 1),
#   refine@K deep  K/4 attempts, each with three repairs (--attempts K/4 --rounds 3),
# and, beside them, the step-level search with the default step model (models/testworld-small,
# alone: --no-also-try --no-retries) at K expansions, each one model call of 8 samples,
# then report.py: pass rates with 95 % Wilson intervals and refine@K − pass@K with a 95 %
# paired bootstrap interval. STEPS updates of 32 pairs; COUNT generated theorems.
# Usage: bash benchmarks/refine_local/run.sh   (needs bash lean/mini/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
HERE=benchmarks/refine_local
BIN=${BIN:-target/release/proofstep}
OUT=${OUT:-benchmarks/out/refine_local}
STEPS=${STEPS:-1500}
COUNT=${COUNT:-12000}
K=${K:-8}
PORT=${PORT:-18391}
SETS=${SETS:-"beyond-novel=data/beyond/novel handwritten=lean/mini/examples/Handwritten.lean"}
PROMPTS=(--prompt-first "$HERE/first.txt" --prompt-repair "$HERE/repair.txt")
mkdir -p "$OUT/data"
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
echo "machine: $(nproc) cores, $cpu" | tee "$OUT/machine.txt" >&2
[[ -f $OUT/corpus/manifest.json ]] || "$BIN" corpus generate --out "$OUT/corpus" --count "$COUNT" \
  --seed 3 --per-file 60 --held-out-percent 1 --novel-percent 0 --beyond-automation 60 \
  --exclude data/testworld/val --exclude data/testworld/test --exclude data/testworld/novel \
  --exclude data/beyond/val --exclude data/beyond/test --exclude data/beyond/novel \
  --exclude lean/mini/examples/Handwritten.lean --exclude lean/mini/Example.lean \
  --exclude-shapes data/testworld/novel --exclude-shapes data/beyond/novel
[[ -f $OUT/extracted/random/train.json ]] || "$BIN" extract "$OUT/corpus" --out "$OUT/extracted" --workers 2
for split in train val; do
  "$BIN" data whole-proofs --input "$OUT/corpus/$split" --states "$OUT/extracted/random/$split.json" \
    --repairs 1 "${PROMPTS[@]}" --out "$OUT/data/whole-$split.jsonl"
done
[[ -f $OUT/tokenizer/tokenizer.json ]] || "$BIN" tokenizer train --data "$OUT/data/whole-train.jsonl" \
  --vocab-size 2000 --out "$OUT/tokenizer"
cat > "$OUT/arch.json" <<'JSON'
{"model_type": "llama", "hidden_size": 256, "intermediate_size": 1024, "num_hidden_layers": 4,
 "num_attention_heads": 4, "num_key_value_heads": 4, "tie_word_embeddings": true,
 "max_position_embeddings": 512, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "hidden_act": "silu"}
JSON
[[ -f $OUT/model/model.safetensors ]] || "$BIN" train --config_json "$OUT/arch.json" \
  --tokenizer "$OUT/tokenizer" --train_data_path "$OUT/data/whole-train.jsonl" \
  --valid_data_path "$OUT/data/whole-val.jsonl" --output_dir "$OUT/model" --max_steps "$STEPS" \
  --per_device_train_batch_size 32 --learning_rate 2e-3 --warmup_steps 100 --logging_steps 50 \
  --evaluation_strategy steps --eval_steps 500 --max_eval_samples 300 --save_strategy steps \
  --save_steps 500 --model_max_length 512 --seed 0
"$BIN" serve --model "$OUT/model" --port "$PORT" > "$OUT/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 60); do curl -sf "http://127.0.0.1:$PORT/v1/models" > /dev/null && break; sleep 1; done
API=(--api-url "http://127.0.0.1:$PORT" --api-kind completions --api-temperature 0.8
     --api-max-tokens 192 "${PROMPTS[@]}")
for entry in $SETS; do
  name=${entry%%=*}; set_path=${entry#*=}
  "$BIN" eval --dataset "$set_path" --out "$OUT/$name.step.jsonl" --workers 2 --expansions "$K" \
    --no-also-try --no-retries > "$OUT/$name.step.log" 2>&1
  for run in "pass:$K:0" "refine:$((K / 2)):1" "deep:$((K / 4)):3"; do
    IFS=: read -r label attempts rounds <<< "$run"
    "$BIN" eval --mode refine --dataset "$set_path" --out "$OUT/$name.$label.jsonl" --workers 2 \
      --attempts "$attempts" --rounds "$rounds" "${API[@]}" > "$OUT/$name.$label.log" 2>&1
  done
done
python3 "$HERE/report.py" "$OUT" "$K" $SETS | tee "$OUT/report.md"
