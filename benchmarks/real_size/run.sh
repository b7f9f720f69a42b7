#!/usr/bin/env bash
# Real-size decoding on the CPU: a random-weight GPT-NeoX of pythia-1.4b's shapes (SHAPES=pythia-2.8b
# for the seed's model; made once by make_folder.py as fp16 safetensors, as published, never
# committed), one 64-token prompt, 32 new tokens, THREADS (2) threads, proofstep in each --weights
# (WEIGHTS, default "f32 bf16 q8_0 q4_0"): greedy and 16 samples; tokens/s (median of REPEATS
# after a warm-up), load time, peak RSS while loading and overall, and the fraction of the
# memory-bandwidth bound (bytes of the matrices a decoding step reads / BANDWIDTH_GBS, default 66,
# the figure issue 24 measured on this machine). See README.md, "real_size".
set -euo pipefail
cd "$(dirname "$0")/../.."
shapes=${SHAPES:-pythia-1.4b}
threads=${THREADS:-2}
repeats=${REPEATS:-2}
weights_list=${WEIGHTS:-f32 bf16 q8_0 q4_0}
bandwidth=${BANDWIDTH_GBS:-66}
out=benchmarks/out/real_size
mkdir -p "$out"
cargo build --release --quiet --bin proofstep
venv=$out/.venv
[[ -x $venv/bin/python ]] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q numpy safetensors; }
model=$out/$shapes
[[ -f $model/model.safetensors ]] || "$venv/bin/python" benchmarks/real_size/make_folder.py "$shapes" "$model"
ids=$(python3 -c "import json, random; r = random.Random(1); print(json.dumps([r.randrange(50304) for _ in range(64)]))")
results=$out/$shapes.jsonl
: > "$results"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for weights in $weights_list; do
    for mode in greedy sample16; do
        target/release/proofstep model speed --model "$model" --ids "$ids" --mode "$mode" \
            --new-tokens 32 --repeats "$repeats" --threads "$threads" --weights "$weights" | tee -a "$results"
    done
done
python3 - "$results" "$model/config.json" "$bandwidth" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
c = json.load(open(sys.argv[2]))
d, layers, v, inter = c["hidden_size"], c["num_hidden_layers"], c["vocab_size"], c["intermediate_size"]
block = layers * (4 * d * d + 2 * d * inter)  # qkv, dense, h_to_4h, 4h_to_h
head = v * d
# Bytes per weight as held: f32 4, bf16 2, Q8_0 36/32 (f32 scale + 32 bytes), Q4_0 20/32
# (f32 scale + 16 bytes); the head is Q8_0 under q4_0.
per = {"f32": (4, 4), "bf16": (2, 2), "q8_0": (36 / 32, 36 / 32), "q4_0": (20 / 32, 36 / 32)}
bw = float(sys.argv[3]) * 1e9
print(f"| weights | workload | tok/s | bound tok/s | fraction | load s | peak RSS loading MiB | peak RSS MiB |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    b, h = per[r["weights"]]
    step = block * b + head * h
    bound = bw / step * (1 if r["mode"] == "greedy" else r["sequences"])
    frac = r["tokens_per_s"] / bound if r["mode"] == "greedy" else float("nan")
    print(f"| {r['weights']} | {r['mode']} | {r['tokens_per_s']:.2f} | {bound:.1f} | "
          + (f"{frac:.2f}" if r["mode"] == "greedy" else "-")
          + f" | {r['load_seconds']:.1f} | {r['load_peak_rss_mib']:.0f} | {r['peak_rss_mib']:.0f} |")
PY
