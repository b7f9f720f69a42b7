"""A random-weight GPT-NeoX model folder of a published model's shapes, fp16 safetensors as
published, for measuring speed and memory at real size (the folder is made, never committed).

usage: make_folder.py SHAPES OUT   (SHAPES: pythia-1.4b, pythia-2.8b, pythia-70m)

Weights are normal(0, 0.02) (norm weights 1, biases 0), as a fresh transformers model; the
tokenizer.json is a word-level vocabulary of the right size (t0 t1 ...), enough for
`proofstep model speed` and `model agree`, which take token ids.
"""
import json
import os
import sys

import numpy as np
from safetensors.numpy import save_file

SHAPES = {
    "pythia-70m": dict(hidden_size=512, num_hidden_layers=6, num_attention_heads=8),
    "pythia-1.4b": dict(hidden_size=2048, num_hidden_layers=24, num_attention_heads=16),
    "pythia-2.8b": dict(hidden_size=2560, num_hidden_layers=32, num_attention_heads=32),
}


def main():
    shapes, out = sys.argv[1], sys.argv[2]
    s = SHAPES[shapes]
    d, layers = s["hidden_size"], s["num_hidden_layers"]
    config = dict(
        model_type="gpt_neox", architectures=["GPTNeoXForCausalLM"], vocab_size=50304,
        intermediate_size=4 * d, rotary_pct=0.25, rotary_emb_base=10000,
        max_position_embeddings=2048, layer_norm_eps=1e-5, use_parallel_residual=True,
        tie_word_embeddings=False, hidden_act="gelu", bos_token_id=0, eos_token_id=0,
        torch_dtype="float16", **s,
    )
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(0)

    def normal(*shape):
        return (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype(np.float16)

    ones = lambda n: np.ones(n, np.float16)
    zeros = lambda n: np.zeros(n, np.float16)
    t = {"gpt_neox.embed_in.weight": normal(50304, d), "embed_out.weight": normal(50304, d),
         "gpt_neox.final_layer_norm.weight": ones(d), "gpt_neox.final_layer_norm.bias": zeros(d)}
    for i in range(layers):
        p = f"gpt_neox.layers.{i}."
        for norm in ["input_layernorm", "post_attention_layernorm"]:
            t[p + norm + ".weight"], t[p + norm + ".bias"] = ones(d), zeros(d)
        for name, (o, k) in {"attention.query_key_value": (3 * d, d), "attention.dense": (d, d),
                             "mlp.dense_h_to_4h": (4 * d, d), "mlp.dense_4h_to_h": (d, 4 * d)}.items():
            t[p + name + ".weight"], t[p + name + ".bias"] = normal(o, k), zeros(o)
    save_file(t, os.path.join(out, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    vocab = {f"t{i}": i for i in range(50304)}
    tokenizer = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": [],
                 "normalizer": None, "pre_tokenizer": {"type": "Whitespace"},
                 "post_processor": None, "decoder": None,
                 "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "t0"}}
    with open(os.path.join(out, "tokenizer.json"), "w") as f:
        json.dump(tokenizer, f)
    params = sum(v.size for v in t.values())
    print(f"{out}: {shapes} shapes, {params / 1e9:.3f}B parameters, fp16")


if __name__ == "__main__":
    main()
