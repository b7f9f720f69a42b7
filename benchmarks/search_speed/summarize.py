"""Reads the eval results of benchmarks/search_speed/run.sh and prints one JSON line per run kind:
expansions/s, checks/s, model and Lean seconds and the model's share, proved, per round and median."""
import json
import statistics
import sys
from pathlib import Path

work, rounds = Path(sys.argv[1]), int(sys.argv[2])


def path(run, r):
    """What the search did per theorem: must be the same in every run, only times may differ."""
    lines = [json.loads(l) for l in (work / f"{run}-{r}.jsonl").read_text().splitlines() if l.strip()]
    return sorted((l["name"], l["proved"], l["expansions"], l.get("proof"), l.get("counts")) for l in lines)


# Searches are deterministic: rounds of one run, and the server with and without pipelining,
# must take the same path; file and server may differ only where the backends disagree.
for run in ["file", "server", "server-no-pipeline"]:
    for r in range(1, rounds + 1):
        if path(run, r) != path("file" if run == "file" else "server", 1):
            sys.exit(f"search_speed: {run} round {r} took another search path than its reference")
disagree = [a[0] for a, b in zip(path("server", 1), path("file", 1)) if a != b]
print(json.dumps({"theorems_where_file_and_server_searches_differ": disagree}))
for run in ["file", "server", "server-no-pipeline"]:
    per_round = []
    for r in range(1, rounds + 1):
        lines = [json.loads(l) for l in (work / f"{run}-{r}.jsonl").read_text().splitlines() if l.strip()]
        secs = sum(l["time_secs"] for l in lines)
        model = sum(l["model_secs"] for l in lines)
        lean = sum(l["lean_secs"] for l in lines)
        expansions = sum(l["expansions"] for l in lines)
        checked = sum((l.get("counts") or {}).get("checked", 0) for l in lines)
        per_round.append({
            "theorems": len(lines),
            "proved": sum(l["proved"] for l in lines),
            "expansions": expansions,
            "checked": checked,
            "search_secs": round(secs, 2),
            "expansions_per_sec": round(expansions / secs, 2),
            "checks_per_sec": round(checked / secs, 1),
            "model_secs": round(model, 2),
            "lean_secs": round(lean, 2),
            "model_share": round(model / (model + lean), 3),
        })
    median = {k: statistics.median(r[k] for r in per_round) for k in per_round[0]}
    print(json.dumps({"run": run, "median": median, "rounds": per_round}))
