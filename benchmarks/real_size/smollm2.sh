#!/usr/bin/env bash
# usage: bash benchmarks/real_size/smollm2.sh — speed and memory of SmolLM2-135M (the Q4_1 GGUF
# imported by `proofstep model import-gguf`) in each --weights (WEIGHTS, default "auto f32 bf16
# q8_0 q4_0 q4_k"): greedy and 16 samples, one 64-token prompt, 64 new tokens, THREADS (2) threads;
# tokens/s (median of REPEATS after a warm-up), load time, peak RSS. `auto` holds the GGUF's exact
# blocks packed (the same numbers as f32). Beside it, in the same run, llama.cpp on the same GGUF
# (anchor_llama_cpp.py through benchmarks/.venv's llama-cpp-python on the libraries llama_cpp.sh builds, or those
# LLAMA_CPP_LIB_PATH names; skipped, with a message, where the venv has no llama-cpp-python):
# its peak RSS includes the Python interpreter's, reported apart ("base"). See README.md, "real_size".
set -euo pipefail
cd "$(dirname "$0")/../.."
source benchmarks/real_size/common.sh
threads=${THREADS:-2}
repeats=${REPEATS:-3}
weights_list=${WEIGHTS:-auto f32 bf16 q8_0 q4_0 q4_k}
out=benchmarks/out/real_size
mkdir -p "$out"
cargo build --release --quiet --bin proofstep
source benchmarks/common/smollm2.sh
model=benchmarks/out/weights_quality/smollm2-135m
smollm2_folder "$model"
ids=$(python3 -c "import json, random; r = random.Random(2); print(json.dumps([r.randrange(49152) for _ in range(64)]))")
results=$out/smollm2.jsonl
# llama.cpp beside proofstep where benchmarks/.venv has llama-cpp-python (its bindings alone will do:
# the anchor loads the libraries llama_cpp.sh builds for this CPU, as run.sh's does).
llama_lib=${LLAMA_CPP_LIB_PATH:-}
if [[ -z $llama_lib ]] && benchmarks/.venv/bin/python -c 'import importlib.util, sys
sys.exit(importlib.util.find_spec("llama_cpp") is None)' 2>/dev/null; then
  llama_lib=$(bash benchmarks/real_size/llama_cpp.sh "$(llama_level native)")
fi
if [[ -n $llama_lib ]]; then
  export LLAMA_CPP_LIB_PATH=$llama_lib
else
  echo "llama.cpp not run: benchmarks/.venv has no llama-cpp-python (see README.md, real_size)" >&2
fi
: > "$results"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for mode in greedy sample16; do
    for weights in $weights_list; do
        target/release/proofstep model speed --model "$model" --ids "$ids" --mode "$mode" \
            --new-tokens 64 --repeats "$repeats" --threads "$threads" --weights "$weights" | tee -a "$results"
    done
    if [[ -n $llama_lib ]]; then
        benchmarks/.venv/bin/python benchmarks/real_size/anchor_llama_cpp.py speed --gguf "$(smollm2_gguf)" \
            --weights q4_1 --ids "$ids" --mode "$mode" --new-tokens 64 --repeats "$repeats" \
            --threads "$threads" 2>/dev/null | tee -a "$results"
    fi
done
python3 - "$results" <<'PY'
import json, sys
print("| impl | weights | workload | tok/s | load s | peak RSS MiB | projections converted |")
print("|---|---|---|---|---|---|---|")
for r in map(json.loads, open(sys.argv[1])):
    conv = f"{r['projections_converted']}/{r['projections']}" if "projections" in r else "-"
    rss = f"{r['peak_rss_mib']:.0f}" + (f" (base {r['base_rss_mib']:.0f})" if "base_rss_mib" in r else "")
    print(f"| {r['impl']} | {r['weights']} | {r['mode']} | {r['tokens_per_s']:.1f} | "
          f"{r['load_seconds']:.2f} | {rss} | {conv} |")
PY
