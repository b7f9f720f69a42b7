"""Summarizes benchmarks/generalization/run.sh's result files as a Markdown table: per held-out
set, the pass rate of each prover with a 95 % Wilson interval; the pass counts of the model
alone and of the default prover over the strongest fixed list's, each with a 95 % paired
bootstrap interval (the theorems resampled with
replacement, the same draw for both, 4,000 draws, seed 0); and the share of what the lemma list
(the strongest) leaves unproved that the model with that list still leaves unproved: the
default prover, whose default list is the lemma list (search::DEFAULT_ALSO_TRY), or the
--also-try row of runs made before that list became the default.
Usage: python3 benchmarks/generalization/report.py OUT NAME=PATH..."""
import json
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from stats import wilson  # noqa: E402

PROVERS = [
    ("default prover: model + the default list (no flags)", "model"),
    ("model alone (--no-also-try)", "model_only"),
    ("model + the lemma list (--also-try)", "model_auto"),
    ("fixed list with simp_all, decide", "list_auto"),
    ("fixed list with simp_all, decide, Nat lemmas", "list_lemmas"),
]


def load(path):
    """name -> proved, for a results file of `proofstep eval` or pipeline-baseline."""
    if not os.path.exists(path):
        return None
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                r = json.loads(line)
                out[r["name"]] = bool(r.get("proved"))
    return out


def paired_ratio(a, b, names, draws=4000):
    rng = random.Random(0)
    ratios = []
    for _ in range(draws):
        sample = [rng.choice(names) for _ in names]
        pa = sum(a[n] for n in sample)
        pb = sum(b[n] for n in sample)
        ratios.append(pa / pb if pb else float("inf"))
    ratios.sort()
    return ratios[int(0.025 * draws)], ratios[int(0.975 * draws) - 1]


def main():
    out = sys.argv[1]
    for entry in sys.argv[2:]:
        name, path = entry.split("=", 1)
        results = {key: load(os.path.join(out, f"{name}.{key}.jsonl")) for _, key in PROVERS}
        print(f"\n### {name} ({path})\n")
        print("| prover | proved | pass rate (95 % interval) |")
        print("|---|---|---|")
        for label, key in PROVERS:
            r = results[key]
            if r is None:
                # The explicit --also-try row is only run for models of before the default list.
                if key != "model_auto":
                    print(f"| {label} | not run | |")
                continue
            k, n = sum(r.values()), len(r)
            lo, hi = wilson(k, n)
            print(f"| {label} | {k}/{n} | {100 * k / n:.1f} % ({100 * lo:.1f}–{100 * hi:.1f}) |")
        # The model alone and the default prover (model + the default list), each over the
        # strongest list, where they were run.
        auto = results["model_auto"] or results["model"]
        lists = [results[k] for k in ("list_auto", "list_lemmas") if results[k] is not None]
        if not lists:
            continue
        strongest = max(lists, key=lambda r: sum(r.values()))
        print()
        for label, model in (("model alone", results["model_only"]), ("default prover", results["model"])):
            if model is None:
                continue
            names = sorted(set(model) & set(strongest))
            pm, pl = sum(model[n] for n in names), sum(strongest[n] for n in names)
            lo, hi = paired_ratio(model, strongest, names)
            ratio = pm / pl if pl else float("inf")
            print(f"{label} / strongest list: {ratio:.2f}x (95 % paired bootstrap {lo:.2f}–{hi:.2f}) "
                  f"on {len(names)} theorems")
        lemmas = results["list_lemmas"]
        if auto is not None and lemmas is not None:
            both = sorted(set(auto) & set(lemmas))
            left_list = sum(not lemmas[n] for n in both)
            left_both = sum(not auto[n] for n in both)
            share = left_both / left_list if left_list else 0.0
            print(f"unproved by the lemma list: {left_list}; by model + that list: "
                  f"{left_both} ({100 * share:.0f} % of the list's) on {len(both)} theorems")


main()
