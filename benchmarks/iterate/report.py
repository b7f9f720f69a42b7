"""Summarizes benchmarks/iterate/run.sh: each round of rounds.jsonl (proved in the pool, new pairs,
val pass rate with a 95 % Wilson interval, minutes), then the novel-shape test split at round 0 and
the last round with the change's 95 % paired bootstrap interval (theorems resampled with
replacement, the same draw for both, 4,000 draws, seed 0).
Usage: python3 benchmarks/iterate/report.py OUT ROUNDS KIND...  (KIND: default, alone)"""
import json
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from stats import wilson  # noqa: E402


def proved(path):
    with open(path) as f:
        return {r["name"]: bool(r.get("proved")) for r in map(json.loads, filter(str.strip, f))}


def main():
    out, last, kinds = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    try:
        with open(os.path.join(out, "run", "rounds.config.json")) as f:
            share = json.load(f).get("iterate", {}).get("found_share", 0.0)
    except FileNotFoundError:
        share = 0.0
    print(f"found share {share} (0: one copy of each found example, as before the setting)\n")
    print("| round | proved in the pool | new pairs | copies of each | val proved | "
          "val pass rate (95 %) | minutes |")
    print("|---|---|---|---|---|---|---|")
    with open(os.path.join(out, "run", "rounds.jsonl")) as f:
        for r in map(json.loads, filter(str.strip, f)):
            k, n = r["val_proved"], r["val_total"]
            lo, hi = wilson(k, n)
            minutes = sum(v for key, v in r.items() if key.endswith("_secs")) / 60
            pool = f"{r['pool_proved']}/{r['pool_searched']}" if r["round"] else "-"
            copies = r.get("found_repeats", 1) if r["round"] else "-"
            print(f"| {r['round']} | {pool} | {r['new_examples']} | {copies} | {k}/{n} | "
                  f"{100 * k / n:.1f} % ({100 * lo:.1f}–{100 * hi:.1f}) | {minutes:.1f} |")
    for kind in kinds:
        label = {"default": "default prover", "alone": "model alone (--no-also-try)"}[kind]
        a = proved(os.path.join(out, f"test.{kind}.round-0.jsonl"))
        b = proved(os.path.join(out, f"test.{kind}.round-{last}.jsonl"))
        names = sorted(set(a) & set(b))
        print(f"\nnovel-shape test, {label}:")
        for rnd, r in [("round 0", a), (f"round {last}", b)]:
            k = sum(r[x] for x in names)
            lo, hi = wilson(k, len(names))
            print(f"- {rnd}: {k}/{len(names)} ({100 * k / len(names):.1f} %, {100 * lo:.1f}–{100 * hi:.1f})")
        rng = random.Random(0)
        diffs = []
        for _ in range(4000):
            s = [rng.choice(names) for _ in names]
            diffs.append(sum(b[x] for x in s) - sum(a[x] for x in s))
        diffs.sort()
        d = sum(b[x] for x in names) - sum(a[x] for x in names)
        print(f"- change: {d:+d} theorems (95 % paired bootstrap {diffs[100]:+d} to {diffs[3899]:+d})")


if __name__ == "__main__":
    main()
