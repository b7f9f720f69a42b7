#!/usr/bin/env bash
# Generation speed, proofstep vs transformers generate(), SmolLM2-135M (the GGUF converted by
# `proofstep model import-gguf`, f32, the same folder for both), one 64-token prompt, exactly
# 64 new tokens, 2 threads: greedy batch 1, 16 samples, beam 8. Workloads alternate between
# the implementations in one run: proofstep with f32 weights (same as transformers), proofstep
# with packed weights (the GGUF's exact Q4_1 / Q8_0 blocks: the same values as f32, fewer
# bytes), proofstep with bf16 weight copies (reduced precision, f32 arithmetic; labelled),
# transformers f32. Needs benchmarks/model_parity/run.sh run once (the venv). WEIGHTS picks
# proofstep's ways (default "f32 auto bf16"; auto is the packed reading, as every command's default).
# See README.md, "model_speed".
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=benchmarks/.venv
threads=${THREADS:-2}
repeats=${REPEATS:-3}
weights_list=${WEIGHTS:-f32 auto bf16}
hf=benchmarks/out/model_speed/smollm2-135m
cargo build --release --quiet
source benchmarks/common/smollm2.sh
smollm2_folder "$hf"
# A 64-token prompt in the seed's format (a real Mathlib-style proof state), cut to 64 ids.
ids=$($venv/bin/python - "$hf" <<'PY'
import json, sys, transformers
tok = transformers.AutoTokenizer.from_pretrained(sys.argv[1])
state = ("[GOAL]x y : ℝ\nh₀ : x + y = 10\nh₁ : x - y = 2\n⊢ x = 6 ∧ y = 4[PROOFSTEP]constructor\n"
         "[GOAL]case left\nx y : ℝ\nh₀ : x + y = 10\nh₁ : x - y = 2\n⊢ x = 6[PROOFSTEP]linarith")
ids = tok(state)["input_ids"]
assert len(ids) >= 64, len(ids)
print(json.dumps(ids[:64]))
PY
)
out=benchmarks/out/model_speed.jsonl
: > "$out"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for mode in greedy sample16 beam8; do
    for weights in $weights_list; do
        target/release/proofstep model speed --model "$hf" --ids "$ids" --mode "$mode" \
            --repeats "$repeats" --threads "$threads" --weights "$weights" | tee -a "$out"
    done
    RAYON_NUM_THREADS=$threads OMP_NUM_THREADS=$threads $venv/bin/python benchmarks/model_speed/hf.py \
        --model "$hf" --ids "$ids" --mode "$mode" --repeats "$repeats" --threads "$threads" | tee -a "$out"
done
$venv/bin/python - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {(r["impl"] + "_" + r.get("weights", "f32"), r["mode"]): r for r in rows}
ways = [w for w in ["f32", "auto", "bf16", "q8_0", "q4_0"] if ("proofstep_" + w, "greedy") in by]
print("| workload | transformers f32 tok/s | "
      + " | ".join(f"proofstep {w} tok/s | ratio" for w in ways)
      + " | peak MiB: transformers / " + " / ".join(ways) + " |")
print("|---|---|" + "---|---|" * len(ways) + "---|")
for mode in ["greedy", "sample16", "beam8"]:
    t = by[("transformers_f32", mode)]
    ours = [by[("proofstep_" + w, mode)] for w in ways]
    tt = t["tokens_per_s"]
    cells = " | ".join(f"{o['tokens_per_s']:.1f} | {o['tokens_per_s'] / tt:.2f}x" for o in ours)
    mib = " / ".join(f"{r['peak_rss_mib']:.0f}" for r in [t] + ours)
    print(f"| {mode} | {tt:.1f} | {cells} | {mib} |")
PY
