#!/usr/bin/env python3
"""The GPU check of `--features cuda` (benchmarks/README.md, "gpu"): proofstep on a CUDA GPU
against the machine's own PyTorch + transformers, in one run that fits 10 minutes on one H200.
Needs only the proofstep binary built by scripts/build-cuda.sh, this repository's default model
folder (for its tokenizer.json) and the machine's PyTorch/transformers; every model is made here
with random weights in the real models' shapes. One JSON line per measurement, to --out.

  parity      logits of proofstep on CUDA vs on the CPU (f32: training and inference forwards),
              vs transformers on CUDA, and proofstep's bf16 weights vs f32 beside transformers'
              own bf16-vs-f32 difference (the bf16 noise): SmolLM2-135M's shape, a GPT-NeoX.
  train       tokens/s and peak GPU memory of `proofstep train --device cuda --bf16` vs a PyTorch
              loop with the HF Trainer's recipe (bf16 autocast, f32 AdamW, clipping), both on the
              same examples of ~512 tokens, batch 4 x accumulation 16 (the seed's): pythia-410m
              and pythia-1.4b shapes.
  generate    tokens/s of `proofstep model speed --device cuda` vs transformers generate() on
              CUDA, greedy and 16 samples, 64-token prompt, 64 new tokens, f32 and bf16.

Usage: python3 benchmarks/gpu/check.py --binary target/cuda/release/proofstep --out OUT
       [--quick]  (tiny shapes on the CPU: checks the script itself on a machine without a GPU)
"""
import argparse
import json
import os
import random
import subprocess
import sys
import time

import torch
import transformers

SHAPES = {
    # name: (architecture, config fields)
    "smollm2-135m": ("llama", dict(vocab_size=49152, hidden_size=576, intermediate_size=1536,
                                   num_hidden_layers=30, num_attention_heads=9,
                                   num_key_value_heads=3, tie_word_embeddings=True,
                                   rope_theta=10000.0, max_position_embeddings=2048)),
    "gpt-neox-160m": ("gpt_neox", dict(vocab_size=50304, hidden_size=768, intermediate_size=3072,
                                       num_hidden_layers=12, num_attention_heads=12,
                                       rotary_pct=0.25, max_position_embeddings=2048)),
    "pythia-410m": ("gpt_neox", dict(vocab_size=50304, hidden_size=1024, intermediate_size=4096,
                                     num_hidden_layers=24, num_attention_heads=16,
                                     rotary_pct=0.25, max_position_embeddings=2048)),
    "pythia-1.4b": ("gpt_neox", dict(vocab_size=50304, hidden_size=2048, intermediate_size=8192,
                                     num_hidden_layers=24, num_attention_heads=16,
                                     rotary_pct=0.25, max_position_embeddings=2048)),
    # --quick: the same code paths at toy sizes.
    "tiny-llama": ("llama", dict(vocab_size=1024, hidden_size=64, intermediate_size=128,
                                 num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                 tie_word_embeddings=True, max_position_embeddings=1024)),
    "tiny-neox": ("gpt_neox", dict(vocab_size=1024, hidden_size=64, intermediate_size=256,
                                   num_hidden_layers=2, num_attention_heads=4, rotary_pct=0.25,
                                   max_position_embeddings=1024)),
}


def emit(out, record):
    line = json.dumps(record)
    print(line, flush=True)
    with open(out, "a") as f:
        f.write(line + "\n")


def make_folder(name, work, tokenizer_dir):
    """A random-weight model folder in `name`'s shape (f32 safetensors) with the repository's
    tokenizer.json (its ids all fall inside the vocabulary)."""
    folder = os.path.join(work, name)
    if os.path.exists(os.path.join(folder, "model.safetensors")) or os.path.exists(
            os.path.join(folder, "model.safetensors.index.json")):
        return folder
    arch, fields = SHAPES[name]
    cls = transformers.LlamaConfig if arch == "llama" else transformers.GPTNeoXConfig
    config = cls(bos_token_id=0, eos_token_id=0, **fields)
    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(config, torch_dtype=torch.float32)
    model.save_pretrained(folder, safe_serialization=True)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        src = os.path.join(tokenizer_dir, f)
        if os.path.exists(src):
            with open(src, "rb") as a, open(os.path.join(folder, f), "wb") as b:
                b.write(a.read())
    del model
    return folder


def run(cmd, **kw):
    started = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr[-2000:]}")
    return p.stdout, time.time() - started


def rel(a, b):
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-12))


def parity(args, names, work, device):
    from safetensors.torch import load_file
    ids = [[(i * 37 + 11 * r) % 800 + 1 for i in range(24)] for r in range(2)]
    for name in names:
        folder = make_folder(name, work, args.tokenizer)
        logits = {}
        for dev, weights in (("cpu", "f32"), (device, "f32"), (device, "bf16")):
            path = os.path.join(work, f"{name}.{dev}.{weights}.safetensors")
            run([args.binary, "model", "logits", "--model", folder, "--ids", json.dumps(ids),
                 "--out", path, "--device", dev, "--weights", weights])
            logits[(dev, weights)] = load_file(path)
        model = transformers.AutoModelForCausalLM.from_pretrained(folder, torch_dtype=torch.float32)
        model = model.to(device).eval()
        with torch.no_grad():
            x = torch.tensor(ids, device=device)
            hf32 = model(x).logits.float().cpu()
            hf16 = model.to(torch.bfloat16)(x).logits.float().cpu()
        ours, cpu, half = logits[(device, "f32")], logits[("cpu", "f32")], logits[(device, "bf16")]
        emit(args.out_file, {
            "check": "parity", "model": name, "device": device,
            "train_cuda_vs_cpu": rel(ours["train"], cpu["train"]),
            "infer_cuda_vs_cpu": rel(ours["infer"], cpu["infer"]),
            "infer_cuda_vs_transformers": rel(ours["infer"], hf32),
            "bf16_vs_f32_proofstep": rel(half["infer"], cpu["infer"]),
            "bf16_vs_f32_transformers": rel(hf16, hf32),
            "argmax_agreement_bf16": float((half["infer"].argmax(-1) == cpu["infer"].argmax(-1)).float().mean()),
        })
        del model
        if device == "cuda":
            torch.cuda.empty_cache()


def examples(tokenizer_file, n, length, seed=0):
    """`n` (input, output) pairs whose tokens number about `length` (the input cut to fit)."""
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(tokenizer_file)
    words = ["x", "y", "h", "hx", "Nat", "+", "*", "=", "≤", "∧", "∨", "→", "∀", "∃", "⊢",
             "(", ")", "a", "b", "c", ":", "Prop", "n.succ", "0", "1", "2", "gcd", "Coprime"]
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        output = " ".join(rng.choice(["simp", "omega", "exact h", "rw [Nat.add_comm]", "intro x"])
                          for _ in range(3)) + "<|endoftext|>"
        state = " ".join(rng.choice(words) for _ in range(length))
        text = "[GOAL]" + state + "[PROOFSTEP]"
        budget = length - len(tok.encode(output).ids)
        enc = tok.encode(text)
        while len(enc.ids) > budget:
            state = state[: int(len(state) * budget / len(enc.ids)) - 1]
            text = "[GOAL]" + state + "[PROOFSTEP]"
            enc = tok.encode(text)
        out.append({"input": text, "output": output})
    return out


def torch_train(folder, data, tokenizer_file, device, steps, warmup, batch, accumulation):
    """The HF Trainer's bf16 recipe by hand: autocast bf16, f32 AdamW, clipping at 1, loss on
    the output tokens; tokens/s over the timed updates (non-padding tokens, as proofstep counts)."""
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(tokenizer_file)
    model = transformers.AutoModelForCausalLM.from_pretrained(folder, torch_dtype=torch.float32).to(device)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5, weight_decay=0.0)
    encoded = []
    for ex in data:
        p, o = tok.encode(ex["input"]).ids, tok.encode(ex["output"]).ids
        encoded.append((p + o, len(p)))
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    i, tokens, started = 0, 0, None
    for step in range(warmup + steps):
        if step == warmup:
            if device == "cuda":
                torch.cuda.synchronize()
            started, tokens = time.time(), 0
        for _ in range(accumulation):
            rows = [encoded[(i + k) % len(encoded)] for k in range(batch)]
            i += batch
            t = max(len(r) for r, _ in rows)
            ids = torch.zeros((batch, t), dtype=torch.long)
            labels = torch.full((batch, t), -100, dtype=torch.long)
            for k, (r, plen) in enumerate(rows):
                ids[k, : len(r)] = torch.tensor(r)
                labels[k, plen: len(r)] = torch.tensor(r[plen:])
                tokens += len(r)
            ids, labels = ids.to(device), labels.to(device)
            with torch.autocast(device_type=device, dtype=torch.bfloat16):
                logits = model(ids).logits
            loss = torch.nn.functional.cross_entropy(
                logits[:, :-1].float().reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1))
            (loss / accumulation).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
    if device == "cuda":
        torch.cuda.synchronize()
    elapsed = time.time() - started
    peak = ((torch.cuda.max_memory_allocated() / 2**20, torch.cuda.max_memory_reserved() / 2**20)
            if device == "cuda" else (None, None))
    del model, opt
    if device == "cuda":
        torch.cuda.empty_cache()
    return tokens / elapsed, peak


def train(args, names, work, device, steps, warmup, batch, accumulation, length):
    for name in names:
        folder = make_folder(name, work, args.tokenizer)
        tokenizer_file = os.path.join(folder, "tokenizer.json")
        data = examples(tokenizer_file, batch * accumulation * (steps + warmup), length)
        path = os.path.join(work, f"train-{name}.jsonl")
        with open(path, "w") as f:
            for ex in data:
                f.write(json.dumps(ex) + "\n")
        out_dir = os.path.join(work, f"trained-{name}")
        stdout, wall = run([args.binary, "train", "--model_name_or_path", folder,
                            "--train_data_path", path, "--output_dir", out_dir,
                            "--per_device_train_batch_size", str(batch),
                            "--gradient_accumulation_steps", str(accumulation),
                            "--model_max_length", str(length + 8), "--max_steps", str(steps + warmup),
                            "--learning_rate", "1e-5", "--warmup_steps", "0",
                            "--evaluation_strategy", "no", "--save_strategy", "no",
                            "--logging_steps", "1", "--bf16", "--device", device])
        report = json.loads(stdout.strip().splitlines()[-1])
        with open(os.path.join(out_dir, "metrics.jsonl")) as f:
            records = [json.loads(l) for l in f if '"loss"' in l]
        timed = [r["tokens_per_second"] for r in records if r["step"] > warmup]
        ours = sum(timed) / len(timed)
        theirs, theirs_peak = torch_train(folder, data, tokenizer_file, device, steps, warmup,
                                          batch, accumulation)
        emit(args.out_file, {
            "check": "train", "model": name, "device": device, "precision": report.get("precision"),
            "batch": batch, "accumulation": accumulation, "tokens_per_example": length,
            "proofstep_tokens_per_s": ours, "pytorch_tokens_per_s": theirs,
            "ratio": ours / theirs,
            # proofstep's is device-wide (driver total - free, CUDA contexts included);
            # PyTorch's are its allocator's own counts.
            "proofstep_peak_gpu_device_mib": report.get("peak_gpu_memory_mib"),
            "pytorch_peak_allocated_mib": theirs_peak[0],
            "pytorch_peak_reserved_mib": theirs_peak[1],
            "proofstep_final_loss": records[-1]["loss"], "proofstep_wall_s": wall,
        })


def generate(args, names, work, device, new_tokens, repeats):
    prompt = [(i * 53 + 7) % 800 + 1 for i in range(64)]
    for name in names:
        folder = make_folder(name, work, args.tokenizer)
        model = transformers.AutoModelForCausalLM.from_pretrained(folder, torch_dtype=torch.float32)
        model = model.to(device).eval()
        for precision in ("f32", "bf16"):
            if precision == "bf16":
                model = model.to(torch.bfloat16)
            for mode, sequences in (("greedy", 1), ("sample16", 16)):
                stdout, _ = run([args.binary, "model", "speed", "--model", folder, "--ids",
                                 json.dumps(prompt), "--mode", mode, "--new-tokens", str(new_tokens),
                                 "--repeats", str(repeats), "--weights", precision,
                                 "--device", device])
                ours = json.loads(stdout.strip().splitlines()[-1])
                ids = torch.tensor([prompt], device=device)
                kw = dict(max_new_tokens=new_tokens, min_new_tokens=new_tokens, pad_token_id=0,
                          top_k=0, top_p=1.0, attention_mask=torch.ones_like(ids))
                kw.update(dict(do_sample=False) if mode == "greedy" else
                          dict(do_sample=True, temperature=1.0, num_return_sequences=16))
                seconds = []
                with torch.no_grad():
                    for r in range(repeats + 1):
                        if device == "cuda":
                            torch.cuda.synchronize()
                        start = time.perf_counter()
                        out = model.generate(ids, **kw)
                        if device == "cuda":
                            torch.cuda.synchronize()
                        if r > 0:
                            seconds.append(time.perf_counter() - start)
                        assert out.shape == (sequences, len(prompt) + new_tokens), out.shape
                theirs = sequences * new_tokens / sorted(seconds)[len(seconds) // 2]
                emit(args.out_file, {
                    "check": "generate", "model": name, "device": device, "mode": mode,
                    "precision": precision, "proofstep_tokens_per_s": ours["tokens_per_s"],
                    "transformers_tokens_per_s": theirs, "ratio": ours["tokens_per_s"] / theirs,
                    "proofstep_load_s": ours["load_seconds"],
                })
        del model
        if device == "cuda":
            torch.cuda.empty_cache()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--tokenizer", default="models/testworld-small")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--only", default="parity,train,generate")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    args.out_file = os.path.join(args.out, "gpu.jsonl")
    work = os.environ.get("GPU_CHECK_WORK", "/tmp/proofstep-gpu-check")
    os.makedirs(work, exist_ok=True)
    device = "cpu" if args.quick else "cuda"
    info = {"check": "machine", "device": device, "torch": torch.__version__,
            "transformers": transformers.__version__, "binary": args.binary}
    if device == "cuda":
        info["gpu"] = torch.cuda.get_device_name(0)
        info["nvidia_smi"] = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
            capture_output=True, text=True).stdout.strip()
    emit(args.out_file, info)
    only = set(args.only.split(","))
    quick = args.quick
    checks = [
        ("parity", lambda: parity(args, ["tiny-llama", "tiny-neox"] if quick else
                                  ["smollm2-135m", "gpt-neox-160m"], work, device)),
        ("generate", lambda: generate(args, ["tiny-llama"] if quick else
                                      ["smollm2-135m", "pythia-1.4b"], work, device,
                                      8 if quick else 64, 1 if quick else 3)),
        ("train", lambda: train(args, ["tiny-neox"] if quick else ["pythia-410m", "pythia-1.4b"],
                                work, device, 1 if quick else 4, 1 if quick else 2,
                                2 if quick else 4, 2 if quick else 16, 64 if quick else 504)),
    ]
    failed = False
    for name, check in checks:
        if name not in only:
            continue
        started = time.time()
        try:
            check()
        except Exception as e:  # one failed check must not hide the others' figures
            failed = True
            emit(args.out_file, {"check": name, "error": str(e)[-3000:]})
        print(f"{name}: {time.time() - started:.0f} s", file=sys.stderr, flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
