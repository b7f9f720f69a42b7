"""Summarizes the pipeline benchmark's result files (see run.sh): pass rate with a
95% Wilson interval per predictor, pass rate vs budget (expansions; a proof found within b
expansions counts at budget b, valid because the search is deterministic for a seed), written
as a Markdown table to stdout and as an SVG plot; pass rate per family of theorems (the name's
prefix: prop, eq, nat, alg, or); each predictor's pass count over each baseline's (the fixed
lists, the untrained model) with a 95% paired bootstrap interval (the test theorems resampled
with replacement, the same draw for both, 4,000 draws, seed 0), which counts the baseline's
uncertainty as well as the predictor's; next-step accuracy lines.
Usage: python3 benchmarks/pipeline/report.py [RESULTS_DIR [SVG [TITLE]]]
(defaults: benchmarks/out, benchmarks/pipeline/budget.svg, "Test-world test split")"""
import json
import math
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from stats import wilson  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else "benchmarks/out"
svg_path = sys.argv[2] if len(sys.argv) > 2 else "benchmarks/pipeline/budget.svg"
title = sys.argv[3] if len(sys.argv) > 3 else "Test-world test split"
RUNS = [
    ("trained llama-tiny", "pipeline_trained.jsonl", "#1f77b4"),
    ("trained llama-8m", "pipeline_trained8m.jsonl", "#393b79"),
    ("SmolLM2-135M fine-tuned", "pipeline_smollm2.jsonl", "#9467bd"),
    ("SmolLM2-135M fine-tuned, 800 updates", "pipeline_smollm2_800.jsonl", "#7b4173"),
    ("untrained llama-tiny", "pipeline_untrained.jsonl", "#7f7f7f"),
    ("fixed list, no automation", "pipeline_fixed_plain.jsonl", "#2ca02c"),
    ("fixed list with simp_all, decide", "pipeline_fixed_auto.jsonl", "#d62728"),
    ("fixed list with simp_all, decide, Nat lemmas", "pipeline_fixed_lemmas.jsonl", "#ff7f0e"),
    ("trained, retries at 0.8, 1.2", "pipeline_trained_retry.jsonl", "#17becf"),
    ("trained llama-8m, retries at 0.8, 1.2", "pipeline_trained8m_retry.jsonl", "#6b6ecf"),
    ("SmolLM2-135M fine-tuned, retries at 0.8, 1.2", "pipeline_smollm2_retry.jsonl", "#e377c2"),
    ("untrained llama-tiny, retries at 0.8, 1.2", "pipeline_untrained_retry.jsonl", "#c7c7c7"),
    ("fixed list, no automation, retries", "pipeline_fixed_plain_retry.jsonl", "#98df8a"),
    ("trained llama-8m, 3,000 updates", "pipeline_trained8m_long.jsonl", "#5254a3"),
    ("trained llama-8m, 3,000 updates, retries", "pipeline_trained8m_long_retry.jsonl", "#9c9ede"),
    ("trained llama-8m, 4x the theorems", "pipeline_trained8m_more.jsonl", "#637939"),
    ("trained llama-8m, 4x the theorems, retries", "pipeline_trained8m_more_retry.jsonl", "#b5cf6b"),
    ("trained llama-8m, 8x the theorems, 4,000 updates", "pipeline_trained8m_more8.jsonl", "#31a354"),
    ("trained llama-8m, 8x the theorems, 4,000 updates, retries", "pipeline_trained8m_more8_retry.jsonl", "#74c476"),
    ("trained + the automation list, retries", "pipeline_trained_auto_retry.jsonl", "#8c564b"),
    ("trained llama-8m + the automation list, retries", "pipeline_trained8m_auto_retry.jsonl", "#c49c94"),
    ("trained llama-8m, 4x the theorems, + the automation list, retries", "pipeline_trained8m_more_auto_retry.jsonl", "#e7ba52"),
    ("trained llama-8m, 8x the theorems, + the automation list, retries", "pipeline_trained8m_more8_auto_retry.jsonl", "#bd9e39"),
]
BUDGETS = [1, 2, 4, 8, 16, 32]
BASELINES = ["untrained llama-tiny", "fixed list, no automation", "fixed list with simp_all, decide",
             "fixed list with simp_all, decide, Nat lemmas"]


def paired_ratio(proved, base, draws):
    """The ratio of pass counts and its 95% paired bootstrap interval (draws: lists of names)."""
    ratios = []
    for names in draws:
        b = sum(base[n] for n in names)
        ratios.append(sum(proved[n] for n in names) / b if b else math.inf)
    ratios.sort()
    b = sum(base.values())
    point = sum(proved.values()) / b if b else math.inf
    return point, ratios[int(0.025 * len(ratios))], ratios[int(0.975 * len(ratios)) - 1]


def family(name):
    return name.split(":")[-1].split("_")[0]


curves = []
families = []
outcomes = {}
print("| predictor | proved | pass rate | 95% interval |")
print("|---|---|---|---|")
for label, name, color in RUNS:
    path = os.path.join(out, name)
    if not os.path.exists(path):
        continue
    rows = [json.loads(l) for l in open(path) if l.strip()]
    n = len(rows)
    k = sum(1 for r in rows if r["proved"])
    lo, hi = wilson(k, n)
    print(f"| {label} | {k}/{n} | {k / n:.1%} | {lo:.1%}–{hi:.1%} |")
    curve = [sum(1 for r in rows if r["proved"] and r["expansions"] <= b) / n for b in BUDGETS]
    curves.append((label, color, curve))
    outcomes[label] = {r["name"]: bool(r["proved"]) for r in rows}
    by_family = {}
    for r in rows:
        done, total = by_family.get(family(r["name"]), (0, 0))
        by_family[family(r["name"])] = (done + bool(r["proved"]), total + 1)
    families.append((label, by_family))

print()
print("| predictor | " + " | ".join(f"≤{b}" for b in BUDGETS) + " |")
print("|---|" + "---|" * len(BUDGETS))
for label, _, curve in curves:
    print(f"| {label} | " + " | ".join(f"{c:.1%}" for c in curve) + " |")

kinds = sorted({k for _, f in families for k in f})
print()
print("| predictor | " + " | ".join(f"{k} (of {families[0][1][k][1]})" for k in kinds) + " |")
print("|---|" + "---|" * len(kinds))
for label, f in families:
    print(f"| {label} | " + " | ".join(f"{f[k][0]} ({f[k][0] / f[k][1]:.0%})" if k in f else "–" for k in kinds) + " |")

bases = [b for b in BASELINES if b in outcomes]
others = [label for label in outcomes if not label.startswith(("fixed list", "untrained"))]
if bases and others:
    names = sorted(outcomes[bases[0]])
    rng = random.Random(0)
    draws = [[rng.choice(names) for _ in names] for _ in range(4000)]
    print()
    print("| predictor | " + " | ".join(f"÷ {b}" for b in bases) + " |")
    print("|---|" + "---|" * len(bases))
    for label in others:
        cells = []
        for b in bases:
            if set(outcomes[label]) != set(outcomes[b]):
                cells.append("–")
                continue
            point, lo, hi = paired_ratio(outcomes[label], outcomes[b], draws)
            cells.append(f"{point:.2f}× ({lo:.2f}–{hi:.2f})" if math.isfinite(hi) else "– (it proves none)")
        print(f"| {label} | " + " | ".join(cells) + " |")

W, H, L, B = 640, 360, 60, 50
# The legend gets its own column right of the plot, one line per curve.
LEGEND_W, LEGEND_TOP = 460, 40
svg_w, svg_h = W + LEGEND_W, max(H, LEGEND_TOP + 16 * len(curves) + 10)
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{svg_w}" height="{svg_h}" font-family="sans-serif" font-size="12">',
       f'<rect width="{svg_w}" height="{svg_h}" fill="white"/>',
       f'<text x="{W / 2}" y="18" text-anchor="middle">{title}: pass rate vs budget (expansions, 8 candidates each)</text>']
x = lambda i: L + i * (W - L - 20) / (len(BUDGETS) - 1)
y = lambda v: H - B - v * (H - B - 40)
for t in range(0, 11, 2):
    v = t / 10
    svg.append(f'<line x1="{L}" y1="{y(v)}" x2="{W - 20}" y2="{y(v)}" stroke="#ddd"/>')
    svg.append(f'<text x="{L - 6}" y="{y(v) + 4}" text-anchor="end">{v:.0%}</text>')
for i, b in enumerate(BUDGETS):
    svg.append(f'<text x="{x(i)}" y="{H - B + 16}" text-anchor="middle">{b}</text>')
svg.append(f'<text x="{W / 2}" y="{H - 12}" text-anchor="middle">expansions (log scale)</text>')
for j, (label, color, curve) in enumerate(curves):
    pts = " ".join(f"{x(i)},{y(v)}" for i, v in enumerate(curve))
    dash = ' stroke-dasharray="6 3"' if "retries" in label else ""
    svg.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2"{dash}/>')
    svg.append(f'<line x1="{W + 4}" y1="{LEGEND_TOP - 4 + 16 * j}" x2="{W + 28}" y2="{LEGEND_TOP - 4 + 16 * j}" stroke="{color}" stroke-width="2"{dash}/>')
    svg.append(f'<text x="{W + 34}" y="{LEGEND_TOP + 16 * j}" fill="{color}">{label}</text>')
svg.append("</svg>")
with open(svg_path, "w") as f:
    f.write("\n".join(svg) + "\n")

ACCURACY = [("trained llama-tiny", "pipeline_accuracy.jsonl"), ("trained llama-8m", "pipeline_accuracy_8m.jsonl"), ("trained llama-8m, 4x the theorems", "pipeline_accuracy_8m_more.jsonl"), ("trained llama-8m, 8x the theorems", "pipeline_accuracy_8m_more8.jsonl"), ("SmolLM2-135M fine-tuned", "pipeline_accuracy_smollm2.jsonl"), ("SmolLM2-135M fine-tuned, 800 updates", "pipeline_accuracy_smollm2_800.jsonl")]
lines = [(m, json.loads(l)) for m, f in ACCURACY if os.path.exists(os.path.join(out, f)) for l in open(os.path.join(out, f)) if l.strip()]
if lines:
    print()
    print("| model | pairs | count | top-1 | top-8 |")
    print("|---|---|---|---|---|")
    for m, r in lines:
        print(f"| {m} | {r['file']} | {r['pairs']} | {r['top1']:.1%} | {r['topk']:.1%} |")
