"""suggest_latency (see README.md): how long next-step suggestions take at a cursor.
Drives the real binary as an editor would, on the test world's Lean:
  lsp    `proofstep lsp --model M -- lean --server`: a code-action request at a blank line of an
         unfinished proof. `answer` = request to answer (what the editor waits; capped by the
         latency budget, default 2 s); `full` = the engine's time from the request to the last
         candidate checked by Lean (from its log), `model` = the model's part of it.
  serve  `proofstep serve --model M`: llmstep's HTTP request for the same goal states (model
         only, no Lean check), as llmstep's tactic sends it.
  anchor llmstep's own server recipe (transformers generate, same model, prompts, samples,
         temperature, token limit), when --anchor-python names a Python with torch+transformers.
Each request follows an edit (a new document version), so nothing is answered from a cache.
Prints one JSON line per request and a summary line per kind (median, p95).
Usage: python3 benchmarks/suggest_latency/latency.py --model DIR [--requests 20] [--anchor-python PY]
       [--anchor-model DIR]"""
import argparse, json, os, re, statistics, subprocess, sys, threading, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
THEOREMS = [
    "theorem s1 (p q : Prop) (hp : p) (hq : q) : p ∧ q := by",
    "theorem s2 (p q : Prop) (h : p ∧ q) : q ∧ p := by",
    "theorem s3 (p q r : Prop) (hpq : p → q) (hqr : q → r) : p → r := by",
    "theorem s4 (m n : Nat) (h : m = n) : n + 0 = m := by",
    "theorem s5 (p : Prop) (hp : p) : ¬¬p := by",
]
TEXT = "prelude\nimport Mini\n\n" + "".join(t + "\n  \n\n" for t in THEOREMS)
CURSORS = [(3 + 3 * i + 1, 2) for i in range(len(THEOREMS))]

p = argparse.ArgumentParser()
p.add_argument("--model", required=True)
p.add_argument("--bin", default=os.path.join(ROOT, "target/release/proofstep"))
p.add_argument("--lean", default=os.path.join(ROOT, "lean/mini/.toolchain/bin/lean"))
p.add_argument("--lean-path", default=os.path.join(ROOT, "lean/mini/build"))
p.add_argument("--requests", type=int, default=20)
p.add_argument("--samples", type=int, default=8)
p.add_argument("--temperature", type=float, default=0.5)
p.add_argument("--max-new-tokens", type=int, default=64)
p.add_argument("--budget-ms", type=int, default=2000)
p.add_argument("--anchor-python", default=None)
p.add_argument("--anchor-model", default=None,
               help="the folder transformers loads (default --model; a quantized folder needs its original)")
a = p.parse_args()
env = dict(os.environ, LEAN_PATH=a.lean_path, RUST_LOG="lsp_proxy=info,serve=warn")
decoding = ["-n", str(a.samples), "--temperature", str(a.temperature),
            "--max-new-tokens", str(a.max_new_tokens)]


def emit(record):
    print(json.dumps(record), flush=True)


class Lsp:
    def __init__(self, cmd):
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env)
        self.msgs, self.logs, self.cv, self.next = [], [], threading.Condition(), 1
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._log, daemon=True).start()

    def _read(self):
        out = self.p.stdout
        while True:
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                c = out.read(1)
                if not c:
                    return
                head += c
            n = int(re.search(rb"Content-Length: *(\d+)", head).group(1))
            m = json.loads(out.read(n))
            if "method" in m and "id" in m:
                self.send({"jsonrpc": "2.0", "id": m["id"], "result": None})
            with self.cv:
                self.msgs.append(m)
                self.cv.notify_all()

    def _log(self):
        for line in self.p.stderr:
            line = re.sub(r"\x1b\[[0-9;]*m", "", line.decode(errors="replace"))
            with self.cv:
                self.logs.append(line)
                self.cv.notify_all()

    def send(self, m):
        b = json.dumps(m).encode()
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(b) + b)
        self.p.stdin.flush()

    def request(self, method, params):
        i, self.next = self.next, self.next + 1
        self.send({"jsonrpc": "2.0", "id": i, "method": method, "params": params})
        return i

    def wait(self, pred, source, timeout=600):
        with self.cv:
            end = time.time() + timeout
            while True:
                for x in getattr(self, source):
                    if pred(x):
                        getattr(self, source).remove(x)
                        return x
                if not self.cv.wait(max(0.0, end - time.time())):
                    raise SystemExit(f"suggest_latency: timed out waiting on {source}")

    def call(self, method, params):
        i = self.request(method, params)
        return self.wait(lambda m: m.get("id") == i and "method" not in m, "msgs")


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(q * len(xs) + 0.5)) - 1))]


def summary(kind, xs, **extra):
    emit({"summary": kind, "n": len(xs), "median_s": round(statistics.median(xs), 3),
          "p95_s": round(pct(xs, 0.95), 3), "min_s": round(min(xs), 3), "max_s": round(max(xs), 3),
          **extra})


# --- lsp ------------------------------------------------------------------------------------
path = os.path.join(ROOT, "benchmarks/out/SuggestLatency.lean")
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "w") as f:
    f.write(TEXT)
uri = "file://" + path
lsp = Lsp([a.bin, "lsp", "--model", a.model, "--budget-ms", str(a.budget_ms), *decoding,
           "--", a.lean, "--server"])
lsp.call("initialize", {"processId": None, "rootUri": "file://" + ROOT, "capabilities": {}})
lsp.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
lsp.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
    "uri": uri, "languageId": "lean4", "version": 1, "text": TEXT}}})
lsp.call("textDocument/waitForDiagnostics", {"uri": uri, "version": 1})
states = []
for line, ch in CURSORS:
    g = lsp.call("$/lean/plainGoal", {"textDocument": {"uri": uri},
                                      "position": {"line": line, "character": ch}})
    states.append("\n\n".join(g["result"]["goals"]))
answers, fulls, models, offered = [], [], [], []
for r in range(-1, a.requests):  # request -1 warms up (shadow servers, model caches)
    version = r + 3
    lsp.send({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
        "textDocument": {"uri": uri, "version": version},
        "contentChanges": [{"text": TEXT + "\n" * (r + 2)}]}})
    lsp.call("textDocument/waitForDiagnostics", {"uri": uri, "version": version})
    line, ch = CURSORS[r % len(CURSORS)]
    pos = {"line": line, "character": ch}
    t0 = time.perf_counter()
    ans = lsp.call("textDocument/codeAction", {"textDocument": {"uri": uri},
                                               "range": {"start": pos, "end": pos},
                                               "context": {"diagnostics": []}})
    answer = time.perf_counter() - t0
    log = lsp.wait(lambda l: ("suggestions ready" in l or "no suggestions" in l)
                   and f"line={line}" in l, "logs")
    full = float(re.search(r"total_secs=([0-9.e-]+)", log).group(1))
    model = re.search(r"model_secs=([0-9.e-]+)", log)
    shown = [x["title"] for x in (ans.get("result") or [])
             if x.get("title", "").startswith("Insert next step")]
    ready = re.search(r"offered=(\d+)", log)
    rec = {"kind": "lsp", "request": r, "line": line, "answer_s": round(answer, 3),
           "full_s": round(full, 3), "model_s": float(model.group(1)) if model else None,
           "shown_in_answer": len(shown), "offered_when_done": int(ready.group(1)) if ready else 0,
           "log": log.strip()[-200:]}
    emit(rec)
    if r >= 0:
        answers.append(answer); fulls.append(full); offered.append(rec["offered_when_done"])
        if model:
            models.append(float(model.group(1)))
lsp.call("shutdown", None)
lsp.send({"jsonrpc": "2.0", "method": "exit", "params": None})
lsp.p.wait(timeout=30)
summary("lsp answer (budget %d ms)" % a.budget_ms, answers)
summary("lsp full (model + Lean checks)", fulls, offered_total=sum(offered))
if models:
    summary("lsp model part", models)

# --- serve ----------------------------------------------------------------------------------
srv = subprocess.Popen([a.bin, "serve", "--port", "0", "--model", a.model, *decoding],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
url = json.loads(srv.stdout.readline())["url"]
serves = []
for r in range(-1, a.requests):
    body = json.dumps({"tactic_state": states[r % len(states)], "prefix": "", "context": ""}).encode()
    t0 = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST")) as resp:
        n = len(json.loads(resp.read())["suggestions"])
    secs = time.perf_counter() - t0
    emit({"kind": "serve", "request": r, "secs": round(secs, 3), "suggestions": n})
    if r >= 0:
        serves.append(secs)
srv.kill()
srv.wait()
summary("serve (llmstep protocol, model only)", serves)

# --- anchor ---------------------------------------------------------------------------------
if a.anchor_python:
    prompts = "".join(json.dumps({"prompt": f"[GOAL]{states[r % len(states)]}[PROOFSTEP]"}) + "\n"
                      for r in range(-1, a.requests))
    out = subprocess.run([a.anchor_python, os.path.join(ROOT, "benchmarks/suggest_latency/hf.py"),
                          "--model", a.anchor_model or a.model, "--samples", str(a.samples), "--temperature",
                          str(a.temperature), "--max-new-tokens", str(a.max_new_tokens)],
                         input=prompts, capture_output=True, text=True, check=True).stdout
    hf = [json.loads(l) for l in out.splitlines() if l.strip()]
    for r, h in zip(range(-1, a.requests), hf):
        emit({"kind": "anchor", "request": r, **h})
    summary("anchor: transformers generate (llmstep server recipe, model only)",
            [h["secs"] for h in hf[1:]])
