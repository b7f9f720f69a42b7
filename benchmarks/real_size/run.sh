#!/usr/bin/env bash
# Real-size decoding on the CPU, side by side in one run: a random-weight GPT-NeoX of pythia-1.4b's
# shapes (SHAPES=pythia-2.8b for the seed's model; made once by make_folder.py as fp16 safetensors,
# as published, never committed), one 64-token prompt, exactly 32 new tokens, THREADS (2) threads:
#   - proofstep in each --weights of WEIGHTS (default "f32 bf16 q8_0 q4_0 q4_k"), quantized on load;
#   - proofstep reading a folder quantized beforehand by `proofstep model quantize` in each of
#     QUANTIZED (default "q8_0 q4_0 q4_k"; made once, its time recorded when it is made);
#   - llama.cpp (ANCHORS contains llama.cpp): the folder written as an F16 GGUF, quantized by
#     llama.cpp's own quantizer to each of LLAMA_WEIGHTS (default "f16 q8_0 q4_0 q4_k"; made once,
#     timed then; delete a GGUF to time its quantizer again), run through
#     PyPI's llama-cpp-python (anchor_llama_cpp.py; benchmarks/remote_predictor/run.sh builds it)
#     on libraries built for CPU's instruction sets by llama_cpp.sh;
#   - transformers (ANCHORS contains transformers) in each of HF_DTYPES (default "float32
#     bfloat16"; HF_REPEATS, default 1).
# CPU (default native) caps both sides at one instruction-set level: native (all this CPU has;
# llama.cpp -march=native, except on a CPU with AMX, where llama.cpp gets avx512 — its AMX build
# segfaulted at the first decode on the 2-core Xeon VM, 0.3.36; LLAMA_CPU overrides), avx512 (no AMX),
# avx2 (an AVX2-only CPU's kernels on a wider one: PROOFSTEP_CPU for proofstep, an AVX2 build of
# llama.cpp, ATEN_CPU_CAPABILITY / ONEDNN_MAX_CPU_ISA / MKL_ENABLE_INSTRUCTIONS for torch); results of a CPU other than native go to SHAPES.CPU.jsonl / report.CPU.md.
# Workloads: greedy and 16 samples at temperature 1; before each greedy run the weight file is
# evicted from the page cache (posix_fadvise), so greedy rows load from disk and sample16 rows
# from memory ("first run s": load plus the untimed warm-up, where llama.cpp pages in its mapped
# file; proofstep copies a quantized folder while loading). tokens/s = sequences × 32 / median seconds of
# REPEATS (2) after one untimed warm-up (prompt included); load time; peak RSS (VmHWM) after
# loading and overall; the fraction of the memory-bandwidth bound (bytes of the matrices a decoding
# step reads / BANDWIDTH_GBS, default 66, the figure issue 24 measured on this machine).
# See README.md, "real_size". Outputs: benchmarks/out/real_size/SHAPES.jsonl and report.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
source benchmarks/real_size/common.sh
shapes=${SHAPES:-pythia-1.4b}
threads=${THREADS:-2}
repeats=${REPEATS:-2}
hf_repeats=${HF_REPEATS:-1}
weights_list=${WEIGHTS:-f32 bf16 q8_0 q4_0 q4_k}
llama_list=${LLAMA_WEIGHTS:-f16 q8_0 q4_0 q4_k}
quantized_list=${QUANTIZED:-q8_0 q4_0 q4_k}
anchors=${ANCHORS:-llama.cpp transformers}
hf_dtypes=${HF_DTYPES:-float32 bfloat16}
bandwidth=${BANDWIDTH_GBS:-66}
cpu=${CPU:-native}
case $cpu in
  native | avx512 | avx2) ;;
  *) echo "CPU=$cpu: use native, avx512 or avx2 (llama.cpp has no scalar build to compare with)" >&2; exit 2 ;;
esac
export PROOFSTEP_CPU=$cpu
out=benchmarks/out/real_size
venv=benchmarks/.venv
mkdir -p "$out"
cargo build --release --quiet --bin proofstep
needs="torch transformers gguf"
[[ " $anchors " == *" llama.cpp "* ]] && needs="llama_cpp $needs"
# Checks that the modules are installed, without importing them: llama-cpp-python's bindings alone
# cannot be imported until LLAMA_CPP_LIB_PATH is set, and the anchor sets it to llama_cpp.sh's libraries.
all_found() { "$venv/bin/python" -c 'import importlib.util, sys
sys.exit(any(importlib.util.find_spec(m) is None for m in sys.argv[1:]))' $needs; }
if [[ ! -x $venv/bin/python ]] || ! all_found; then
  echo "needs benchmarks/.venv with $needs (llama_cpp: llama-cpp-python's bindings):" >&2
  echo "  python3 -m venv $venv && $venv/bin/pip install torch transformers safetensors gguf accelerate" >&2
  echo "  (torch's CPU wheel is smaller: --extra-index-url https://download.pytorch.org/whl/cpu, where reachable)" >&2
  echo "  CMAKE_ARGS=-DLLAMA_BUILD=OFF $venv/bin/pip install --no-binary llama-cpp-python llama-cpp-python==0.3.36" >&2
  exit 2
fi
model=$out/$shapes
# Drops a file's pages from the page cache: the next load reads it from disk.
evict() { python3 -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$1"; }
[[ -f $model/model.safetensors ]] || "$venv/bin/python" benchmarks/real_size/make_folder.py "$shapes" "$model"
ids=$(pythia_prompt_ids)
suffix=$([[ $cpu == native ]] || echo ".$cpu")
results=$out/$shapes$suffix.jsonl
llama_cpu=$(llama_level "$cpu")
if [[ " $anchors " == *" llama.cpp "* ]]; then
  LLAMA_CPP_LIB_PATH=$(bash benchmarks/real_size/llama_cpp.sh "$llama_cpu")
  export LLAMA_CPP_LIB_PATH
else
  llama_cpu="not run"
fi
: > "$results"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), CPU=$cpu (llama.cpp: ${llama_cpu}), load: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/machine$suffix.txt" >&2
for weights in $weights_list; do
  for mode in greedy sample16; do
    [[ $mode == greedy ]] && evict "$model/model.safetensors"
    target/release/proofstep model speed --model "$model" --ids "$ids" --mode "$mode" \
      --new-tokens 32 --repeats "$repeats" --threads "$threads" --weights "$weights" | tee -a "$results"
  done
done
for weights in $quantized_list; do
  folder=$out/$shapes.$weights.proofstep
  if [[ ! -f $folder/model.safetensors ]]; then
    rm -rf "$folder"
    target/release/proofstep model quantize --model "$model" --weights "$weights" --out "$folder" \
      --threads "$threads" --json | python3 -c 'import json, sys; r = json.load(sys.stdin)
print(json.dumps({"quantizer": "proofstep", "weights": r["weights"], "quantize_seconds": r["seconds"], "bytes": r["bytes"]}))' | tee -a "$results"
  fi
  for mode in greedy sample16; do
    [[ $mode == greedy ]] && evict "$folder/model.safetensors"
    target/release/proofstep model speed --model "$folder" --ids "$ids" --mode "$mode" \
      --new-tokens 32 --repeats "$repeats" --threads "$threads" --weights auto | tee -a "$results"
  done
done
if [[ " $anchors " == *" llama.cpp "* ]]; then
  f16=$out/$shapes.f16.gguf
  [[ -f $f16 ]] || "$venv/bin/python" benchmarks/real_size/anchor_llama_cpp.py convert "$model" "$f16"
  for weights in $llama_list; do
    gguf=$out/$shapes.$weights.gguf
    [[ $weights == f16 || -f $gguf ]] || "$venv/bin/python" benchmarks/real_size/anchor_llama_cpp.py quantize "$f16" "$gguf" "$weights" 2>/dev/null | tee -a "$results"
    for mode in greedy sample16; do
      [[ $mode == greedy ]] && evict "$gguf"
      "$venv/bin/python" benchmarks/real_size/anchor_llama_cpp.py speed --gguf "$gguf" --weights "$weights" \
        --ids "$ids" --mode "$mode" --repeats "$repeats" --threads "$threads" 2>/dev/null | tee -a "$results"
    done
  done
fi
if [[ " $anchors " == *" transformers "* ]]; then
  # torch's own caps: ATen's vectorized kernels, oneDNN and MKL (its f32 products)
  case $cpu in
    avx2) export ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 ;;
    avx512) export ATEN_CPU_CAPABILITY=avx512 ONEDNN_MAX_CPU_ISA=AVX512_CORE_FP16 MKL_ENABLE_INSTRUCTIONS=AVX512 ;;
  esac
  for dtype in $hf_dtypes; do
    for mode in greedy sample16; do
      OMP_NUM_THREADS=$threads "$venv/bin/python" benchmarks/model_speed/hf.py --model "$model" --ids "$ids" \
        --mode "$mode" --new-tokens 32 --repeats "$hf_repeats" --threads "$threads" --dtype "$dtype" | tee -a "$results"
    done
  done
fi
echo "machine after: load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine$suffix.txt" >&2
python3 benchmarks/real_size/report.py "$results" "$model/config.json" "$bandwidth" | tee "$out/report$suffix.md"
