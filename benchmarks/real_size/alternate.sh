#!/usr/bin/env bash
# proofstep and llama.cpp in alternating pairs on one quantization, for a host whose speed drifts
# between the rows of run.sh: each of ROUNDS (5) rounds runs `proofstep model speed` on the folder
# `model quantize` wrote, then anchor_llama_cpp.py on the GGUF llama.cpp's quantizer wrote, each
# REPEATS (3) timed repetitions after one warm-up on THREADS (2) threads, and prints both
# tokens/s and their ratio. Needs what run.sh made for SHAPES (default pythia-2.8b), WEIGHTS
# (q8_0) and CPU (native; avx2 caps both sides as run.sh does). MODE: greedy (default) or sample16.
# Usage: CPU=avx2 MODE=greedy bash benchmarks/real_size/alternate.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
shapes=${SHAPES:-pythia-2.8b}
weights=${WEIGHTS:-q8_0}
mode=${MODE:-greedy}
cpu=${CPU:-native}
out=benchmarks/out/real_size
folder=$out/$shapes.$weights.proofstep
gguf=$out/$shapes.$weights.gguf
for f in "$folder/model.safetensors" "$gguf"; do
  [[ -f $f ]] || { echo "$f is missing: run benchmarks/real_size/run.sh with SHAPES=$shapes first" >&2; exit 2; }
done
llama_cpu=$cpu
[[ $cpu == native ]] && grep -qw amx_int8 /proc/cpuinfo && llama_cpu=avx512
export PROOFSTEP_CPU=$cpu
LLAMA_CPP_LIB_PATH=$(bash benchmarks/real_size/llama_cpp.sh "$llama_cpu")
export LLAMA_CPP_LIB_PATH
# The prompt of run.sh: 64 random ids.
ids=$(python3 -c "import json, random; r = random.Random(1); print(json.dumps([r.randrange(50304) for _ in range(64)]))")
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), CPU=$cpu, $shapes $weights $mode" >&2
tps() { python3 -c 'import json, sys; r = json.load(sys.stdin); print(round(r["tokens_per_s"], 3), [round(s, 2) for s in r["seconds"]])'; }
for round in $(seq "${ROUNDS:-5}"); do
  ours=$(target/release/proofstep model speed --model "$folder" --ids "$ids" --mode "$mode" --new-tokens 32 \
    --repeats "${REPEATS:-3}" --threads "${THREADS:-2}" | tps)
  theirs=$(benchmarks/.venv/bin/python benchmarks/real_size/anchor_llama_cpp.py speed --gguf "$gguf" --weights "$weights" \
    --ids "$ids" --mode "$mode" --new-tokens 32 --repeats "${REPEATS:-3}" --threads "${THREADS:-2}" 2>/dev/null | tps)
  echo "round $round: proofstep $ours, llama.cpp $theirs, ratio $(python3 -c "print(round(${ours%% *} / ${theirs%% *}, 2))")"
done
