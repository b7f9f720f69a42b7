#!/usr/bin/env bash
# usage: bash benchmarks/real_size/smollm2.sh — speed and memory of SmolLM2-135M (the Q4_1 GGUF
# imported by `proofstep model import-gguf`) in each --weights (WEIGHTS, default "auto f32 bf16
# q8_0 q4_0"): greedy and 16 samples, one 64-token prompt, 64 new tokens, THREADS (2) threads;
# tokens/s (median of REPEATS after a warm-up), load time, peak RSS. `auto` holds the GGUF's exact
# blocks packed (the same numbers as f32). See README.md, "real_size".
set -euo pipefail
cd "$(dirname "$0")/../.."
threads=${THREADS:-2}
repeats=${REPEATS:-3}
weights_list=${WEIGHTS:-auto f32 bf16 q8_0 q4_0}
out=benchmarks/out/real_size
mkdir -p "$out"
cargo build --release --quiet --bin proofstep
source benchmarks/common/smollm2.sh
model=benchmarks/out/weights_quality/smollm2-135m
smollm2_folder "$model"
ids=$(python3 -c "import json, random; r = random.Random(2); print(json.dumps([r.randrange(49152) for _ in range(64)]))")
results=$out/smollm2.jsonl
: > "$results"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for mode in greedy sample16; do
    for weights in $weights_list; do
        target/release/proofstep model speed --model "$model" --ids "$ids" --mode "$mode" \
            --new-tokens 64 --repeats "$repeats" --threads "$threads" --weights "$weights" | tee -a "$results"
    done
done
python3 - "$results" <<'PY'
import json, sys
print("| weights | workload | tok/s | load s | peak RSS MiB | projections converted |")
print("|---|---|---|---|---|---|")
for r in map(json.loads, open(sys.argv[1])):
    print(f"| {r['weights']} | {r['mode']} | {r['tokens_per_s']:.1f} | {r['load_seconds']:.2f} | "
          f"{r['peak_rss_mib']:.0f} | {r['projections_converted']}/{r['projections']} |")
PY
