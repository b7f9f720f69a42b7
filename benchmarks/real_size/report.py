"""The real_size table (see README.md, "real_size") from run.sh's JSON lines: every row with its
fraction of the memory-bandwidth bound, then proofstep over each anchor at the same precision.
Usage: report.py RESULTS.jsonl CONFIG.json BANDWIDTH_GBS"""
import json
import sys

lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
rows = [r for r in lines if "tokens_per_s" in r]
quantized = [r for r in lines if "quantizer" in r]
c = json.load(open(sys.argv[2]))
bw = float(sys.argv[3]) * 1e9
d, layers, v, inter = c["hidden_size"], c["num_hidden_layers"], c["vocab_size"], c["intermediate_size"]
block = layers * (4 * d * d + 2 * d * inter)  # qkv, dense, h_to_4h, 4h_to_h
head = v * d
# Bytes per weight as proofstep holds them on an x86-64 CPU with AVX2 (projections, head):
# f32 4, bf16 2, and the interleaved int8 layout (x8.rs) — Q8_0 34/32, Q4_0 18/32, Q4_K 148/256,
# the head of q4_0 / q4_k Q8_0; transformers as its dtype. llama.cpp's rows carry the bytes of
# their GGUF's matrices (step_bytes).
per = {"f32": (4, 4), "bf16": (2, 2), "q8_0": (34 / 32, 34 / 32), "q4_0": (18 / 32, 34 / 32),
       "q4_k": (148 / 256, 34 / 32)}


def step_bytes(r):
    if "step_bytes" in r:
        return r["step_bytes"]
    b, h = per[r["weights"]]
    return block * b + head * h


for r in rows:
    if r.get("quantized_folder"):
        r["impl"] = "proofstep (quantized folder)"
print("| impl | weights | workload | tok/s | bound tok/s | fraction | load s | first run s | peak RSS loading MiB | peak RSS MiB | instruction set |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    bound = bw / step_bytes(r) * r["sequences"]
    frac = f"{r['tokens_per_s'] / bound:.2f}" if r["mode"] == "greedy" else "-"
    loading = r.get("load_peak_rss_mib")
    print(f"| {r['impl']} | {r['weights']} | {r['mode']} | {r['tokens_per_s']:.2f} | {bound:.1f} | {frac} | "
          f"{r['load_seconds']:.2f} | {r.get('first_run_seconds_incl_load', float('nan')):.1f} | "
          f"{'-' if loading is None else f'{loading:.0f}'} | {r['peak_rss_mib']:.0f} | {r.get('instruction_set', '-')} |")
by = {(r["impl"], r["weights"], r["mode"]): r for r in rows}


def first(r):
    return r.get("first_run_seconds_incl_load", float("nan"))


print()
print("| proofstep | anchor | workload | speed ratio | peak RSS ratio | load time ratio | first run ratio |")
print("|---|---|---|---|---|---|---|")
pairs = [("q8_0", "llama.cpp", "q8_0"), ("q4_0", "llama.cpp", "q4_0"), ("q4_k", "llama.cpp", "q4_k"),
         ("bf16", "llama.cpp", "f16"), ("f32", "transformers", "f32"), ("bf16", "transformers", "bf16"),
         ("q8_0", "transformers", "f32"), ("q4_0", "transformers", "f32")]
for impl in ["proofstep", "proofstep (quantized folder)"]:
    for ours, anchor, theirs in pairs:
        for mode in ["greedy", "sample16"]:
            a, b = by.get((impl, ours, mode)), by.get((anchor, theirs, mode))
            if a and b:
                label = ours if impl == "proofstep" else f"{ours} (quantized folder)"
                print(f"| {label} | {anchor} {theirs} | {mode} | {a['tokens_per_s'] / b['tokens_per_s']:.2f} | "
                      f"{a['peak_rss_mib'] / b['peak_rss_mib']:.2f} | {a['load_seconds'] / b['load_seconds']:.2f} | "
                      f"{first(a) / first(b):.2f} |")
if quantized:
    print()
    print("| quantizer | weights | seconds | file MiB |")
    print("|---|---|---|---|")
    for r in quantized:
        print(f"| {r['quantizer']} | {r['weights']} | {r['quantize_seconds']:.1f} | {r['bytes'] / 2**20:.0f} |")
