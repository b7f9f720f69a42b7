"""Generates a LeanDojo Benchmark 4 split folder (train.json of about SIZE_MB megabytes, small
val.json and test.json) for the streaming benchmark, from the real Mathlib states in the llmstep
traces, repeated with varying names. Not committed data: written to a temporary folder.
Usage: python gen.py OUT_DIR SIZE_MB TRACES_DIR"""
import glob, json, os, sys

out, size_mb, traces = sys.argv[1], float(sys.argv[2]), sys.argv[3]
steps = []
for path in sorted(glob.glob(os.path.join(traces, "results_*.json"))):
    for r in json.load(open(path))["results"]:
        for a in r["attempt_results"]:
            steps.extend(a.get("trace", []))
os.makedirs(out, exist_ok=True)
target = int(size_mb * 1e6)

def theorem(i, k):
    tactics = [{"tactic": s["tactic"], "annotated_tactic": [s["tactic"], []], "state_before": s["state_before"],
                "state_after": "no goals"} for s in (steps[(i * 7 + j) % len(steps)] for j in range(k))]
    return {"url": "https://github.com/leanprover-community/mathlib4", "commit": "5a919533f110b7d76410134a237ee374f24eaaad",
            "file_path": f"Mathlib/Generated/F{i % 997}.lean", "full_name": f"Generated.thm_{i}",
            "start": [i % 5000, 1], "end": [i % 5000 + 3, 20], "traced_tactics": tactics}

with open(os.path.join(out, "train.json"), "w") as f:
    f.write("[\n")
    written, i = 2, 0
    while written < target:
        text = ("" if i == 0 else ",\n") + json.dumps(theorem(i, i % 9), indent=2)
        f.write(text)
        written += len(text.encode())
        i += 1
    f.write("\n]")
for split in ("val", "test"):
    json.dump([theorem(i, 3) for i in range(50)], open(os.path.join(out, f"{split}.json"), "w"), indent=2)
