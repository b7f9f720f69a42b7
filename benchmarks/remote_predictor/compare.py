"""Greedy parity of a third-party completions server with proofstep (benchmarks/README.md,
remote_predictor). For proof states of the test world's test split, asks llama.cpp's server
and `proofstep serve` (the same GGUF, imported) for the greedy continuation with token
log-probabilities through the same /v1/completions request, and asks `proofstep generate`
for its candidate once through --predictor-url (the remote predictor) and once from the model
folder (the local one). Prints one JSON summary; per-state rows go to --rows.
"""

import argparse
import json
import subprocess
import urllib.request

END = "<|endoftext|>"


def complete(base, prompt, max_tokens, extra):
    body = {"prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "logprobs": 1,
            "stop": [END], "seed": 0, **extra}
    request = urllib.request.Request(base + "/v1/completions", json.dumps(body).encode(),
                                     {"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=300) as answer:
        choice = json.load(answer)["choices"][0]
    lp = choice["logprobs"]
    return choice["text"], lp["tokens"], [x for x in lp["token_logprobs"] if x is not None], choice["finish_reason"]


def generate(binary, source, state, max_tokens):
    out = subprocess.run([binary, "generate", "--goal", state, "--temperature", "0", "-n", "1",
                          "--max-new-tokens", str(max_tokens), "--json", *source],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)["candidates"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama", required=True, help="llama.cpp server base URL")
    ap.add_argument("--proofstep", required=True, help="proofstep serve base URL")
    ap.add_argument("--states", required=True, help="extracted LeanDojo JSON (test.json)")
    ap.add_argument("--count", type=int, default=40)
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--model", required=True, help="the imported model folder")
    ap.add_argument("--extra", default="{}", help="--predictor-extra for llama.cpp")
    ap.add_argument("--rows", required=True)
    args = ap.parse_args()
    extra = json.loads(args.extra)
    states = []
    for theorem in json.load(open(args.states)):
        for step in theorem["traced_tactics"]:
            if step["state_before"] not in states:
                states.append(step["state_before"])
    states = states[: args.count]
    rows = []
    for state in states:
        prompt = f"[GOAL]{state}[PROOFSTEP]"
        l_text, l_tokens, l_lp, l_finish = complete(args.llama, prompt, args.max_tokens, extra)
        p_text, p_tokens, p_lp, p_finish = complete(args.proofstep, prompt, args.max_tokens, {})
        # proofstep reports the end token last; llama.cpp leaves it out.
        p_text_lp = p_lp[:-1] if p_finish == "stop" else p_lp
        same_tokens = len(p_text_lp) == len(l_lp)
        diffs = [abs(a - b) for a, b in zip(p_text_lp, l_lp)] if same_tokens else []
        remote = generate(args.bin, ["--predictor-url", args.llama + "/v1", "--predictor-extra", args.extra],
                          state, args.max_tokens)
        local = generate(args.bin, ["--model", args.model], state, args.max_tokens)
        rows.append({
            "state": state,
            "llama_text": l_text, "proofstep_text": p_text, "same_text": l_text == p_text,
            "llama_finish": l_finish, "proofstep_finish": p_finish,
            "same_token_count": same_tokens,
            "max_abs_logprob_diff": max(diffs) if diffs else None,
            "llama_mean_text_logprob": sum(l_lp) / len(l_lp) if l_lp else None,
            "proofstep_mean_text_logprob": sum(p_text_lp) / len(p_text_lp) if p_text_lp else None,
            "proofstep_end_logprob": p_lp[-1] if p_finish == "stop" else None,
            "remote_candidate": remote[0] if remote else None,
            "local_candidate": local[0] if local else None,
            "same_candidate_text": bool(remote and local and remote[0]["text"] == local[0]["text"]),
        })
    with open(args.rows, "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    diffs = [r["max_abs_logprob_diff"] for r in rows if r["max_abs_logprob_diff"] is not None]
    gaps = [abs(r["remote_candidate"]["score"] - r["local_candidate"]["score"])
            for r in rows if r["same_candidate_text"]]
    ends = [r["proofstep_end_logprob"] for r in rows if r["proofstep_end_logprob"] is not None]
    print(json.dumps({
        "states": len(rows),
        "same_greedy_text": sum(r["same_text"] for r in rows),
        "same_token_count": sum(r["same_token_count"] for r in rows),
        "max_abs_token_logprob_diff": max(diffs, default=None),
        "median_max_abs_token_logprob_diff": median(diffs),
        "same_candidate_via_predictor_url": sum(r["same_candidate_text"] for r in rows),
        "max_candidate_score_gap": max(gaps, default=None),
        "median_candidate_score_gap": median(gaps),
        "median_end_token_logprob": median(ends),
    }))


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if xs else None

if __name__ == "__main__":
    main()
