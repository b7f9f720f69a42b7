#!/usr/bin/env bash
# Quality of the reduced --weights against f32: top-1 agreement and mean |Δ log-prob| of f32's
# greedy continuations (32 tokens from each of the 8 proof-state prompts in prompts.json),
# teacher-forced through both (`proofstep model agree`), on SmolLM2-135M (the GGUF imported by
# `proofstep model import-gguf`; its f32 is the GGUF's dequantized values) and on a random GPT-NeoX
# of pythia-70m's shapes (benchmarks/real_size/make_folder.py; random ids as prompts). REAL=1 adds
# the pythia-1.4b shapes folder benchmarks/real_size/run.sh makes (REAL_SHAPES=pythia-2.8b: that
# one). See README.md, "weights_quality".
set -euo pipefail
cd "$(dirname "$0")/../.."
out=benchmarks/out/weights_quality
mkdir -p "$out"
cargo build --release --quiet --bin proofstep
source benchmarks/common/smollm2.sh
smollm2_folder "$out/smollm2-135m"
venv=$out/.venv
[[ -x $venv/bin/python ]] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q numpy safetensors; }
neox=$out/pythia-70m
[[ -f $neox/model.safetensors ]] || "$venv/bin/python" benchmarks/real_size/make_folder.py pythia-70m "$neox"
ids=$(python3 -c "import json, random; r = random.Random(0); print(json.dumps([[r.randrange(50304) for _ in range(32)] for _ in range(8)]))")
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
results=$out/results.jsonl
: > "$results"
target/release/proofstep model agree --model "$out/smollm2-135m" --prompts benchmarks/weights_quality/prompts.json --weights auto,bf16,q8_0,q4_0,q4_k \
    --new-tokens 32 --threads 2 | sed 's/^{/{"model":"SmolLM2-135M",/' | tee -a "$results"
target/release/proofstep model agree --model "$neox" --ids "$ids" --new-tokens 32 --threads 2 \
    | sed 's/^{/{"model":"random GPT-NeoX, pythia-70m shapes",/' | tee -a "$results"
if [[ ${REAL:-0} == 1 ]]; then
    shapes=${REAL_SHAPES:-pythia-1.4b}
    target/release/proofstep model agree --model "benchmarks/out/real_size/$shapes" --ids "$ids" \
        --new-tokens 32 --threads 2 | sed "s/^{/{\"model\":\"random GPT-NeoX, $shapes shapes\",/" | tee -a "$results"
fi
python3 - "$results" <<'PY'
import json, sys
print("| model | weights | top-1 agreement | mean abs Δ log-prob | max abs Δ log-prob | positions |")
print("|---|---|---|---|---|---|")
for line in open(sys.argv[1]):
    r = json.loads(line); a = r["agreement"]
    print(f"| {r['model']} | {r['weights']} | {a['top1']:.3f} | {a['mean_abs_dlogp']:.4f} | {a['max_abs_dlogp']:.3f} | {a['positions']} |")
PY
