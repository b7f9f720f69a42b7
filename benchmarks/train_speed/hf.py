"""PyTorch/transformers side of the training-speed benchmark (see README.md, "train_speed"):
the same Llama configurations and batch as train_speed/src/main.rs, AdamW, gradient clipping at
1.0, fp32, random ids, labels on every position. Prints one JSON line per configuration.
Usage: python hf.py --config llama-8m [--batch 8] [--seq 256] [--steps 5] [--warmup 2] [--threads 2]"""
import argparse, json, resource, time

import torch
import transformers

CONFIGS = {
    "llama-8m": dict(vocab_size=8192, hidden_size=256, intermediate_size=1024, num_hidden_layers=4,
                     num_attention_heads=4, num_key_value_heads=4, tie_word_embeddings=False),
    "llama-25m": dict(vocab_size=8192, hidden_size=512, intermediate_size=1536, num_hidden_layers=6,
                      num_attention_heads=8, num_key_value_heads=8, tie_word_embeddings=True),
    "smollm2-135m": dict(vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                         num_attention_heads=9, num_key_value_heads=3, tie_word_embeddings=True),
}

p = argparse.ArgumentParser()
p.add_argument("--config", default="llama-8m")
p.add_argument("--batch", type=int, default=8)
p.add_argument("--seq", type=int, default=256)
p.add_argument("--steps", type=int, default=5)
p.add_argument("--warmup", type=int, default=2)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
cfg = transformers.LlamaConfig(rms_norm_eps=1e-5, rope_theta=10000.0, max_position_embeddings=2048,
                               hidden_act="silu", **CONFIGS[a.config])
model = transformers.LlamaForCausalLM(cfg).float().train()
opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.0)
times = []
for step in range(a.warmup + a.steps):
    ids = torch.randint(0, cfg.vocab_size, (a.batch, a.seq))
    start = time.perf_counter()
    loss = model(input_ids=ids, labels=ids).loss
    forward = time.perf_counter() - start
    loss.backward()
    backward = time.perf_counter() - start - forward
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)
    secs = time.perf_counter() - start
    print(f"{a.config} step {step}: {secs:.3f} s (forward+loss {forward:.3f}, backward {backward:.3f}, "
          f"optimizer {secs - forward - backward:.3f}), loss {loss.item():.3f}", file=__import__("sys").stderr)
    if step >= a.warmup:
        times.append(secs)
times.sort()
median = times[len(times) // 2]
print(json.dumps({
    "impl": f"pytorch {torch.__version__} / transformers {transformers.__version__}", "config": a.config,
    "params": sum(p.numel() for p in model.parameters()), "batch": a.batch, "seq": a.seq, "steps": a.steps,
    "median_step_s": median, "tokens_per_s": a.batch * a.seq / median,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "loadavg_after": " ".join(open("/proc/loadavg").read().split()[:3]),
}), flush=True)
