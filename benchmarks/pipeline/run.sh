#!/usr/bin/env bash
# The pipeline benchmark (see benchmarks/README.md, section pipeline): on the test split of the
# committed test-world corpus (data/testworld/test, 157 theorems), at one budget (32 expansions,
# 8 candidates per expansion, server backend), the same best-first search with
#   - the trained default model (models/testworld-small),
#   - the same architecture untrained (MODEL_UNTRAINED, made by the command in README),
#   - three fixed tactic lists tried in order at every node (no automation / with simp_all,
#     decide / with those and the Nat rewriting lemmas),
#   - the first three again with retries at temperatures 0.8, 1.2 when the queue runs dry,
#   - and the trained model with retries and the automation list also tried at every state,
# then next-step accuracy (top-1/top-8 exact match, beam 8) on held-out pairs of the test world
# and on ../shared/data/traces; summary + pass-rate-vs-budget SVG by report.py.
# The fine-tuned SmolLM2-135M row comes from smollm2.sh (same loop and budget).
# CORPUS (default data/testworld) and OUT (default benchmarks/out) choose another corpus and
# result folder; beyond.sh runs it on the beyond-automation corpus.
# Usage: bash benchmarks/pipeline/run.sh   (needs bash lean/mini/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
CORPUS=${CORPUS:-data/testworld}
MODEL=${MODEL:-models/testworld-small}
MODEL_UNTRAINED=${MODEL_UNTRAINED:?set MODEL_UNTRAINED to an untrained llama-tiny folder (see README)}
PAIRS=${PAIRS:?set PAIRS to the proofstep-test.jsonl made from the extracted corpus (see README)}
OUT=${OUT:-benchmarks/out}
mkdir -p "$OUT"
cargo build --release --quiet -p pipeline-baseline
BIN_BASELINE=target/release/pipeline-baseline
# All through the same search loop (baseline/src/main.rs): 32 expansions, 8
# candidates per expansion (temperature 0.5 for the models), server backend, 120 s per theorem.
source benchmarks/pipeline/lists.sh
rm -f "$OUT"/pipeline_{trained,untrained,fixed_plain,fixed_auto,fixed_lemmas}.jsonl
"$BIN_BASELINE" "$CORPUS/test" "$OUT/pipeline_trained.jsonl" 32 --model "$MODEL"
"$BIN_BASELINE" "$CORPUS/test" "$OUT/pipeline_untrained.jsonl" 32 --model "$MODEL_UNTRAINED"
"$BIN_BASELINE" "$CORPUS/test" "$OUT/pipeline_fixed_plain.jsonl" 32 "${PLAIN[@]}"
"$BIN_BASELINE" "$CORPUS/test" "$OUT/pipeline_fixed_auto.jsonl" 32 "${AUTO[@]}"
"$BIN_BASELINE" "$CORPUS/test" "$OUT/pipeline_fixed_lemmas.jsonl" 32 "${LEMMAS[@]}"
# The same budget with retries: when the queue runs dry, expanded nodes are sampled again at
# temperatures 0.8 and 1.2 (search --retry-temperatures); a fixed list has nothing new to retry.
rm -f "$OUT"/pipeline_{trained,untrained,fixed_plain,trained_auto}_retry.jsonl
"$BIN_BASELINE" "$CORPUS/test" "$OUT/pipeline_trained_retry.jsonl" 32 --retry 0.8,1.2 --model "$MODEL"
"$BIN_BASELINE" "$CORPUS/test" "$OUT/pipeline_untrained_retry.jsonl" 32 --retry 0.8,1.2 --model "$MODEL_UNTRAINED"
"$BIN_BASELINE" "$CORPUS/test" "$OUT/pipeline_fixed_plain_retry.jsonl" 32 --retry 0.8,1.2 "${PLAIN[@]}"
# The trained model with the automation list also tried at every state (--also-try): its own
# row, not the trained predictor alone.
"$BIN_BASELINE" "$CORPUS/test" "$OUT/pipeline_trained_auto_retry.jsonl" 32 --retry 0.8,1.2 --model "$MODEL" "${AUTO[@]}"
target/release/pipeline-accuracy "$MODEL" 8 0 "$PAIRS" > "$OUT/pipeline_accuracy.jsonl"
target/release/pipeline-accuracy "$MODEL" 8 0 ../shared/data/traces/llmstep-pythia2.8b-minif2f-test/results_{0,1,2,3}.json >> "$OUT/pipeline_accuracy.jsonl"
python3 benchmarks/pipeline/report.py "$OUT" "${SVG:-benchmarks/pipeline/budget.svg}" "${TITLE:-Test-world test split}"
