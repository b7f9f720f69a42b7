#!/usr/bin/env bash
# proofstep and llama.cpp in alternating pairs on one quantization, for a host whose speed drifts
# between the rows of run.sh. Each of ROUNDS (5) rounds runs `proofstep model speed` on the folder
# `model quantize` wrote, then anchor_llama_cpp.py on the GGUF llama.cpp's quantizer wrote. Each
# side runs REPEATS (3) timed repetitions after one warm-up, on THREADS (2) threads. One line per
# round: both tokens/s, the seconds of each repetition, and the ratio.
# Needs the folder and GGUF that run.sh made for SHAPES (default pythia-2.8b) and WEIGHTS (q8_0).
# CPU (native, avx512 or avx2) and LLAMA_CPU cap the instruction sets as in run.sh. MODE: greedy
# (default) or sample16. The anchor's log goes to benchmarks/out/real_size/alternate.anchor.log.
# Usage: CPU=avx2 MODE=greedy bash benchmarks/real_size/alternate.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source benchmarks/real_size/common.sh
shapes=${SHAPES:-pythia-2.8b}
weights=${WEIGHTS:-q8_0}
mode=${MODE:-greedy}
cpu=${CPU:-native}
threads=${THREADS:-2}
repeats=${REPEATS:-3}
case $cpu in
  native | avx512 | avx2) ;;
  *) echo "CPU=$cpu: use native, avx512 or avx2" >&2; exit 2 ;;
esac
out=benchmarks/out/real_size
folder=$out/$shapes.$weights.proofstep
gguf=$out/$shapes.$weights.gguf
for f in "$folder/model.safetensors" "$gguf"; do
  if [[ ! -f $f ]]; then
    echo "$f is missing; make both files with:" >&2
    echo "  SHAPES=$shapes WEIGHTS=\" \" QUANTIZED=$weights LLAMA_WEIGHTS=$weights ANCHORS=llama.cpp bash benchmarks/real_size/run.sh" >&2
    exit 2
  fi
done
cargo build --release --quiet --bin proofstep
llama_cpu=$(llama_level "$cpu")
export PROOFSTEP_CPU=$cpu
LLAMA_CPP_LIB_PATH=$(bash benchmarks/real_size/llama_cpp.sh "$llama_cpu")
export LLAMA_CPP_LIB_PATH
ids=$(pythia_prompt_ids)
log=$out/alternate.anchor.log
: > "$log"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), CPU=$cpu (llama.cpp: $llama_cpu), $shapes $weights $mode" >&2
tps() { python3 -c 'import json, sys; r = json.load(sys.stdin); print(round(r["tokens_per_s"], 3), [round(s, 2) for s in r["seconds"]])'; }
for round in $(seq "${ROUNDS:-5}"); do
  ours=$(target/release/proofstep model speed --model "$folder" --ids "$ids" --mode "$mode" --new-tokens 32 \
    --repeats "$repeats" --threads "$threads" | tps)
  if ! theirs=$(benchmarks/.venv/bin/python benchmarks/real_size/anchor_llama_cpp.py speed --gguf "$gguf" \
    --weights "$weights" --ids "$ids" --mode "$mode" --new-tokens 32 --repeats "$repeats" --threads "$threads" \
    2>>"$log" | tps); then
    echo "llama.cpp's run failed; the end of $log:" >&2
    tail -5 "$log" >&2
    exit 1
  fi
  echo "round $round: proofstep $ours, llama.cpp $theirs, ratio $(python3 -c "print(round(${ours%% *} / ${theirs%% *}, 2))")"
done
