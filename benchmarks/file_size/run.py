#!/usr/bin/env python3
"""Peak memory and time of `proofstep check` and `proofstep prove --theorem t3` on test-world
files of N theorems (default 1,000, 5,000 and 20,000), for one or two proofstep binaries side
by side (the anchor: an older build), and of Lean alone on the text `check` gives it (the file
followed by one `#print axioms` per theorem), so proofstep's own share of the time shows. Peak
memory is proofstep's own (VmHWM of its process, read from /proc while it runs), not Lean's.
Prints one JSON line per run.

Usage: python3 benchmarks/file_size/run.py --binary target/release/proofstep [--anchor OLD]
       [--sizes 1000,5000,20000] [--skip-check-above N]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def theorem_file(n):
    """n small theorems, each proved by one tactic, after the test world's prelude."""
    lines = ["prelude", "import Mini", ""]
    for i in range(n):
        lines.append(f"theorem t{i} (p q : Prop) (hp : p) (hq : q) : p ∧ q := by")
        lines.append("  exact ⟨hp, hq⟩")
        lines.append("")
    return "\n".join(lines)


def peak_kb(pid, done, out):
    """Polls the process's high-water mark (VmHWM) until it exits."""
    best = 0
    while not done.is_set():
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        best = max(best, int(line.split()[1]))
        except OSError:
            break
        time.sleep(0.005)
    out.append(best)


def measure(args, cwd):
    started = time.monotonic()
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done, peaks = threading.Event(), []
    watcher = threading.Thread(target=peak_kb, args=(proc.pid, done, peaks))
    watcher.start()
    _, stderr = proc.communicate()
    done.set()
    watcher.join()
    return {
        "rc": proc.returncode,
        "secs": round(time.monotonic() - started, 2),
        "peak_mb": round(peaks[0] / 1024, 1) if peaks else None,
        "stderr_tail": stderr.decode(errors="replace")[-300:] if proc.returncode not in (0, 1) else "",
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--anchor")
    ap.add_argument("--sizes", default="1000,5000,20000")
    ap.add_argument("--skip-check-above", type=int, default=10**9)
    ap.add_argument("--skip-anchor-above", type=int, default=10**9)
    args = ap.parse_args()
    folder = tempfile.mkdtemp(prefix="file_size_", dir=os.path.join(ROOT, "lean/mini/examples"))
    binaries = [("proofstep", os.path.abspath(args.binary))]
    if args.anchor:
        binaries.append(("anchor", os.path.abspath(args.anchor)))
    try:
        for n in [int(s) for s in args.sizes.split(",")]:
            path = os.path.join(folder, f"T{n}.lean")
            with open(path, "w") as f:
                f.write(theorem_file(n))
            rel = os.path.relpath(path, ROOT)
            size_mb = round(os.path.getsize(path) / 2**20, 2)
            if n <= args.skip_check_above:
                probed = os.path.join(folder, f"P{n}.lean")
                with open(probed, "w") as f:
                    f.write(theorem_file(n) + "\n")
                    f.write("".join(f"#print axioms _root_.t{i}\n" for i in range(n)))
                lean = os.path.join(ROOT, "lean/mini/.toolchain/bin/lean")
                os.environ["LEAN_PATH"] = os.path.join(ROOT, "lean/mini/build")
                result = measure([lean, "--json", probed], ROOT)
                result["peak_mb"] = None
                print(json.dumps({"binary": "lean alone", "theorems": n, "file_mb": size_mb,
                                  "command": "lean --json (the text check runs)", **result}),
                      flush=True)
                del os.environ["LEAN_PATH"]
            for label, binary in binaries:
                if label == "anchor" and n > args.skip_anchor_above:
                    continue
                runs = [("prove --theorem t3", [binary, "prove", "--theorem", "t3", "--file", rel,
                                                "--backend", "server", "--expansions", "4"])]
                if n <= args.skip_check_above:
                    runs.append(("check", [binary, "check", rel, "--json", "--timeout", "3600"]))
                for what, cmd in runs:
                    result = measure(cmd, ROOT)
                    print(json.dumps({"binary": label, "theorems": n, "file_mb": size_mb,
                                      "command": what, **result}), flush=True)
    finally:
        for name in os.listdir(folder):
            os.remove(os.path.join(folder, name))
        os.rmdir(folder)


if __name__ == "__main__":
    sys.exit(main())
