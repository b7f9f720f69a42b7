"""Writes a randomly initialised, Pythia-shaped (GPT-NeoX) model folder with the real GPT-NeoX-20B
tokenizer, as transformers' save_pretrained does, so fine-tuning a user's Pythia folder can be
exercised here (no Pythia weights are reachable). Usage: python make_tiny_pythia.py OUT_DIR"""
import shutil, sys

import torch
import transformers

out = sys.argv[1]
torch.manual_seed(0)
cfg = transformers.GPTNeoXConfig(vocab_size=50304, hidden_size=64, intermediate_size=256, num_hidden_layers=2,
                                 num_attention_heads=4, rotary_pct=0.25, max_position_embeddings=2048,
                                 use_parallel_residual=True, tie_word_embeddings=False, bos_token_id=0, eos_token_id=0)
transformers.GPTNeoXForCausalLM(cfg).save_pretrained(out, safe_serialization=True)
shutil.copy(sys.argv[2] if len(sys.argv) > 2 else "../shared/tokenizers/gpt-neox-20b-tokenizer.json", f"{out}/tokenizer.json")
print(out)
