"""The anchor of suggest_latency (see README.md): llmstep's way of making suggestions, i.e. its
python/server.py with Hugging Face transformers: the same model folder, the same prompts
`[GOAL]{state}[PROOFSTEP]`, the same number of samples, temperature and token limit, timed per
request. No Lean check (llmstep checks in Lean afterwards, in the tactic). Reads prompts as JSON
lines on stdin, prints one JSON line per prompt.
Usage: python hf.py --model DIR --samples 8 --temperature 0.5 --max-new-tokens 64"""
import argparse, json, os, sys, time

import torch
import transformers

p = argparse.ArgumentParser()
p.add_argument("--model", required=True)
p.add_argument("--samples", type=int, default=8)
p.add_argument("--temperature", type=float, default=0.5)
p.add_argument("--max-new-tokens", type=int, default=64)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
tok = transformers.AutoTokenizer.from_pretrained(a.model)
if tok("a b", return_tensors="pt")["input_ids"].numel() == 0:
    # A folder with only tokenizer.json (real_size/make_folder.py's): transformers 5 builds a
    # tokenizer from it that encodes nothing; the file itself encodes as proofstep reads it.
    tok = transformers.PreTrainedTokenizerFast(tokenizer_file=os.path.join(a.model, "tokenizer.json"))
model = transformers.AutoModelForCausalLM.from_pretrained(a.model, torch_dtype=torch.float32)
model.eval()
eos = tok.eos_token_id if tok.eos_token_id is not None else model.config.eos_token_id
for line in sys.stdin:
    prompt = json.loads(line)["prompt"]
    t0 = time.perf_counter()
    ids = tok(prompt, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**ids, do_sample=True, temperature=a.temperature, top_p=0.95, top_k=0,
                             num_return_sequences=a.samples, max_new_tokens=a.max_new_tokens,
                             pad_token_id=eos)
    texts = tok.batch_decode(out[:, ids["input_ids"].shape[1]:], skip_special_tokens=True)
    secs = time.perf_counter() - t0
    new_tokens = int((out[:, ids["input_ids"].shape[1]:] != eos).sum())
    print(json.dumps({"secs": secs, "suggestions": len(set(t.strip() for t in texts)),
                      "new_tokens": new_tokens}), flush=True)
