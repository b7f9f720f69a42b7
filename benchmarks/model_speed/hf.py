"""transformers side of the generation-speed benchmark (see README.md, "model_speed"): the
same folder, prompt ids and workloads as `proofstep model speed`; exactly N new tokens (EOS
suppressed), f32 (or --dtype bfloat16), CPU. Prints one JSON line.
Usage: python hf.py --model DIR --ids JSON --mode greedy|sample16|beam8 [--new-tokens 64] [--repeats 3]
       [--threads 2] [--dtype float32|bfloat16]"""
import argparse, json, resource, time

import torch
import transformers

p = argparse.ArgumentParser()
p.add_argument("--model", required=True)
p.add_argument("--ids", required=True)
p.add_argument("--mode", required=True, choices=["greedy", "sample16", "beam8"])
p.add_argument("--new-tokens", type=int, default=64)
p.add_argument("--repeats", type=int, default=3)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
loading = time.perf_counter()
model = transformers.AutoModelForCausalLM.from_pretrained(a.model, dtype=getattr(torch, a.dtype)).eval()
load_s = time.perf_counter() - loading
ids = torch.tensor([json.loads(a.ids)])
n = a.new_tokens
common = dict(max_new_tokens=n, min_new_tokens=n, pad_token_id=0, top_k=0, top_p=1.0)
kwargs, sequences = {
    "greedy": (dict(do_sample=False), 1),
    "sample16": (dict(do_sample=True, temperature=1.0, num_return_sequences=16), 16),
    "beam8": (dict(do_sample=False, num_beams=8, num_return_sequences=8, early_stopping=False,
                   length_penalty=1.0), 8),
}[a.mode]
seconds = []
with torch.no_grad():
    for r in range(a.repeats + 1):
        start = time.perf_counter()
        out = model.generate(ids, attention_mask=torch.ones_like(ids), **common, **kwargs)
        elapsed = time.perf_counter() - start
        assert out.shape == (sequences, ids.shape[1] + n), out.shape
        if r > 0:
            seconds.append(elapsed)
median = sorted(seconds)[len(seconds) // 2]
print(json.dumps({"impl": "transformers", "mode": a.mode, "load_seconds": load_s,
                  "weights": {"float32": "f32", "bfloat16": "bf16"}[a.dtype], "sequences": sequences, "new_tokens": n,
                  "prompt_tokens": ids.shape[1], "seconds": seconds,
                  "tokens_per_s": sequences * n / median,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "torch": torch.__version__, "transformers": transformers.__version__}), flush=True)
