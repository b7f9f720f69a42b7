"""Checks that a folder written by `proofstep train` loads in Hugging Face transformers and means
the same thing there: AutoModelForCausalLM + AutoTokenizer load it, and transformers' loss on the
output tokens of each validation example (prompt masked, as the seed's tune.py does) averages to
the eval_loss proofstep recorded for the final weights.
Usage: python run.py MODEL_DIR VALID_JSONL  (prints one JSON line)"""
import json, math, sys

import torch
import transformers

model_dir, valid = sys.argv[1], sys.argv[2]
tok = transformers.AutoTokenizer.from_pretrained(model_dir)
model = transformers.AutoModelForCausalLM.from_pretrained(model_dir).float().eval()
total, count = 0.0, 0
with open(valid) as f:
    for line in f:
        ex = json.loads(line)
        tactic = ex["output"][: -len("<|endoftext|>")] if ex["output"].endswith("<|endoftext|>") else ex["output"]
        prompt = tok(ex["input"])["input_ids"]
        out = tok(tactic, add_special_tokens=False)["input_ids"] + [tok.convert_tokens_to_ids("<|endoftext|>")]
        ids = torch.tensor([prompt + out])
        labels = torch.tensor([[-100] * len(prompt) + out])
        with torch.no_grad():
            loss = model(input_ids=ids, labels=labels).loss.item()
        total += loss * len(out)
        count += len(out)
records = [json.loads(l) for l in open(f"{model_dir}/metrics.jsonl")]
ours = [r["eval_loss"] for r in records if "eval_loss" in r][-1]
print(json.dumps({"model_type": model.config.model_type, "params": sum(p.numel() for p in model.parameters()),
                  "transformers_loss": total / count, "proofstep_eval_loss": ours,
                  "abs_diff": abs(total / count - ours), "output_tokens": count}))
