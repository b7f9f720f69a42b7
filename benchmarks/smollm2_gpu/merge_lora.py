#!/usr/bin/env python3
"""Adds the low-rank update finetune_lora.py wrote (adapter-*.safetensors) to the f32 SmolLM2
folder `proofstep model import-gguf` made from the same GGUF, and writes a Hugging Face folder
proofstep loads like any other (`--model OUT`).

Before merging it checks that the GPU read the GGUF into the same tensors as this folder holds
(base_fingerprint.json: per tensor the sum and the sum of absolute values), so an update
learned on one layout is never added to another. The folder is written beside OUT and renamed
into place when complete.

Usage: merge_lora.py BASE_FOLDER ADAPTER_DIR OUT
"""
import json
import os
import shutil
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file

COPIED = ("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json")


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.strip().splitlines()[-1])
    base, adapter_dir, out = sys.argv[1:]
    with safe_open(os.path.join(base, "model.safetensors"), "np") as f:
        weights = {k: f.get_tensor(k) for k in f.keys()}
    prints = json.load(open(os.path.join(adapter_dir, "base_fingerprint.json")))
    worst = 0.0
    for name, w in weights.items():
        if name not in prints:
            sys.exit(f"{name} is in {base} but not in the fingerprint: not the same model")
        for got, want in zip((float(w.astype(np.float64).sum()), float(np.abs(w.astype(np.float64)).sum())), prints[name]):
            worst = max(worst, abs(got - want) / max(abs(want), 1e-12))
    if worst > 1e-6:
        sys.exit(f"the GPU's base weights differ from {base} (relative difference {worst:.2e}): "
                 "fine-tune from the GGUF this folder was imported from")
    shards = sorted(n for n in os.listdir(adapter_dir) if n.startswith("adapter-") and n.endswith(".safetensors"))
    merged, meta = 0, {}
    for shard in shards:
        with safe_open(os.path.join(adapter_dir, shard), "np") as f:
            meta = f.metadata()
            for key in f.keys():
                if not key.endswith(".lora_a"):
                    continue
                name = key.removesuffix(".lora_a")
                a = f.get_tensor(key).astype(np.float64)
                b = f.get_tensor(name + ".lora_b").astype(np.float64)
                w = weights[name + ".weight"]
                weights[name + ".weight"] = (w.astype(np.float64) + b @ a).astype(np.float32)
                merged += 1
    if merged == 0:
        sys.exit(f"no adapter-*.safetensors with lora_a/lora_b pairs in {adapter_dir}")
    tmp = out.rstrip("/") + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    for name in COPIED:
        if os.path.exists(os.path.join(base, name)):
            shutil.copy(os.path.join(base, name), tmp)
    save_file(weights, os.path.join(tmp, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(tmp, "lora.json"), "w") as f:
        json.dump({"merged_projections": merged, "fingerprint_max_rel_diff": worst, **meta}, f, indent=1)
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
    print(f"{out}: {merged} projections merged (rank {meta.get('rank')}, epoch {meta.get('epoch')}, "
          f"val loss {meta.get('val_loss')}); base fingerprint matches to {worst:.1e}")


if __name__ == "__main__":
    main()
