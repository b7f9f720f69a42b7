"""Reads a logging dir's TensorBoard event files with TensorBoard's EventAccumulator and compares
every scalar with metrics.jsonl (which holds, after a resume, exactly the records of the steps the
run kept). Usage: python check.py LOGGING_DIR  (prints one JSON line; exit 1 on a mismatch)"""
import glob, json, math, sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

logdir = sys.argv[1]
acc = EventAccumulator(logdir, purge_orphaned_data=True)
acc.Reload()
tags = sorted(acc.Tags()["scalars"])
records = [json.loads(l) for l in open(f"{logdir}/metrics.jsonl")]
problems = []


def tb_tag(key):
    return "eval/" + key[5:] if key.startswith("eval_") else "train/" + key


expected = {}
for r in records:
    for key, value in r.items():
        if key != "step" and isinstance(value, (int, float)):
            expected.setdefault(tb_tag(key), []).append((r["step"], value))
for tag, points in sorted(expected.items()):
    if tag not in tags:
        problems.append(f"{tag} missing")
        continue
    got = [(e.step, e.value) for e in acc.Scalars(tag)]
    if [s for s, _ in got] != [s for s, _ in points]:
        problems.append(f"{tag}: steps {[s for s, _ in got]} != {[s for s, _ in points]}")
    elif any(not math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6) for (_, a), (_, b) in zip(got, points)):
        problems.append(f"{tag}: values differ")
print(json.dumps({
    "event_files": len(glob.glob(f"{logdir}/events.out.tfevents.*")),
    "scalar_tags": tags,
    "train_loss_steps": [e.step for e in acc.Scalars("train/loss")] if "train/loss" in tags else [],
    "eval_loss": [[e.step, round(e.value, 4)] for e in acc.Scalars("eval/loss")] if "eval/loss" in tags else [],
    "problems": problems,
}))
sys.exit(1 if problems else 0)
