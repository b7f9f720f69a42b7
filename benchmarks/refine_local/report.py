"""Report of benchmarks/refine_local/run.sh: per set, pass@K, refine@K (one repair per
attempt) and refine@K deep (three repairs per attempt) of the same whole-proof model at the
same K model calls per theorem, with 95 % Wilson intervals; refine − pass with a 95 % paired
bootstrap interval over theorems; mean tokens per theorem.
Usage: python3 report.py OUT K NAME=PATH..."""
import json
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "common"))
from stats import wilson  # noqa: E402

LABELS = [("pass", "pass@K: K whole proofs"), ("refine", "refine@K: K/2 attempts x 1 repair"),
          ("deep", "refine@K: K/4 attempts x 3 repairs")]
STEP = ("step", "step search, K expansions (default step model alone)")


def records(path, k):
    """name -> (proved within k calls, tokens); a search record counts its expansions."""
    out = {}
    for line in open(path):
        r = json.loads(line)
        refine = r.get("refine")
        calls = refine.get("calls_to_proof") if refine else r.get("expansions")
        tokens = (refine or {}).get("tokens") or {}
        out[r["name"]] = (bool(r.get("proved")) and calls is not None and calls <= k,
                          tokens.get("prompt", 0) + tokens.get("completion", 0))
    return out


def paired(a, b, names, rounds=10000, seed=0):
    rng = random.Random(seed)
    diffs = [int(b[n][0]) - int(a[n][0]) for n in names]
    stats = sorted(sum(rng.choice(diffs) for _ in diffs) / len(diffs) for _ in range(rounds))
    return sum(diffs) / len(diffs), stats[int(0.025 * rounds)], stats[int(0.975 * rounds)]


def main():
    out, k, sets = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    print(f"Whole-proof model, {k} model calls per theorem\n")
    for entry in sets:
        name = entry.split("=", 1)[0]
        runs = {label: records(f"{out}/{name}.{label}.jsonl", k) for label, _ in LABELS + [STEP]
                if os.path.exists(f"{out}/{name}.{label}.jsonl")}
        if "pass" not in runs:
            continue
        names = sorted(runs["pass"])
        print(f"#### {name} ({len(names)} theorems)\n")
        print("| run | proved | pass rate (95 % interval) | mean tokens per theorem |")
        print("|---|---|---|---|")
        for label, title in LABELS + [STEP]:
            if label not in runs:
                continue
            r = runs[label]
            proved = sum(r[n][0] for n in names if n in r)
            lo, hi = wilson(proved, len(names))
            tokens = sum(r[n][1] for n in names if n in r) / len(names)
            cost = f"{tokens:.0f}" if label != "step" else "(local)"
            print(f"| {title} | {proved}/{len(names)} | {100 * proved / len(names):.1f} % "
                  f"({100 * lo:.1f}–{100 * hi:.1f}) | {cost} |")
        print()
        for label, title in LABELS[1:]:
            if label in runs and all(n in runs[label] for n in names):
                d, lo, hi = paired(runs["pass"], runs[label], names)
                print(f"{title} − pass@K: {100 * d:+.1f} points (95 % paired bootstrap "
                      f"{100 * lo:+.1f} to {100 * hi:+.1f})  ")
        print()


main()
