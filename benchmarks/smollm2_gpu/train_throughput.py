#!/usr/bin/env python3
"""Full fine-tuning speed on a GPU with PyTorch: training tokens/s and examples/s of
SmolLM2-135M, Pythia-1.4B and Pythia-2.8B (the seed's sizes) on the test world's proof-step
pairs, to replace benchmarks/README.md's arithmetic estimate of a GPU epoch with a reading.

Weights are random (the speed does not depend on them; the real SmolLM2 is finetune_lora.py's
job); every parameter is trained with AdamW under bf16 autocast; the examples, padding and loss
are finetune_lora.py's (load_pairs, batch_tensors, loss_sum); batches of 64 examples (the seed's
4 x 16 accumulation) drawn in order from the pairs; tokens counted are the non-padding ones. WARMUP updates untimed, then TIMED updates between CUDA syncs.

Usage: train_throughput.py --folder SMOLLM2_FOLDER --train T.jsonl [--timed 30]
"""
import argparse
import json
import os
import time

import torch
from tokenizers import Tokenizer
from transformers import AutoConfig, AutoModelForCausalLM, GPTNeoXConfig

from finetune_lora import batch_tensors, load_pairs, loss_sum

PYTHIA = {
    "pythia-1.4b": dict(hidden_size=2048, num_hidden_layers=24, num_attention_heads=16, intermediate_size=8192),
    "pythia-2.8b": dict(hidden_size=2560, num_hidden_layers=32, num_attention_heads=32, intermediate_size=10240),
}


def measure(name, config, data, pad, warmup, timed):
    with torch.device("cuda"):
        model = AutoModelForCausalLM.from_config(config)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5, weight_decay=0.0)
    tokens = 0
    for i in range(warmup + timed):
        if i == warmup:
            torch.cuda.synchronize()
            started, tokens = time.time(), 0
        ids, mask, labels = batch_tensors(data[i % len(data)], pad, "cuda")
        loss, n = loss_sum(model, ids, mask, labels)
        (loss / n).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        tokens += int(mask.sum())
    torch.cuda.synchronize()
    seconds = time.time() - started
    row = dict(model=name, params=sum(p.numel() for p in model.parameters()), updates=timed,
               batch=len(data[0]), seconds=round(seconds, 3), tokens_per_s=round(tokens / seconds),
               examples_per_s=round(timed * len(data[0]) / seconds, 1),
               peak_gib=round(torch.cuda.max_memory_allocated() / 2**30, 1))
    print(json.dumps(row), flush=True)
    del model, opt
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--folder", required=True)
    ap.add_argument("--train", required=True)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--timed", type=int, default=30)
    ap.add_argument("--out", default=None, help="append the rows to this JSONL file")
    args = ap.parse_args()
    torch.manual_seed(0)
    tok = Tokenizer.from_file(os.path.join(args.folder, "tokenizer.json"))
    smollm2 = AutoConfig.from_pretrained(args.folder)
    pairs, _ = load_pairs(args.train, tok, smollm2.eos_token_id, 512)
    data = [pairs[i:i + args.batch] for i in range(0, len(pairs) - args.batch + 1, args.batch)]
    models = {"smollm2-135m": smollm2}
    for name, dims in PYTHIA.items():
        models[name] = GPTNeoXConfig(vocab_size=50304, rotary_pct=0.25, max_position_embeddings=2048,
                                     use_parallel_residual=True, **dims)
    rows = []
    for name, config in models.items():
        rows.append(measure(name, config, data, smollm2.eos_token_id, args.warmup, args.timed))
    if args.out:
        with open(args.out, "a") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
