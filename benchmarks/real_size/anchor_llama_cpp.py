"""llama.cpp side of the real-size benchmark (see README.md, "real_size"), through PyPI's
llama-cpp-python (its libllama, built from the vendored llama.cpp source by
benchmarks/remote_predictor/run.sh into benchmarks/.venv).

  convert FOLDER OUT.gguf      the random GPT-NeoX folder of make_folder.py as an F16 GGUF, written
                               with gguf-py (llama.cpp's own GGUF library): the tensor names, the
                               q/k/v reordering and the hyperparameters llama.cpp's
                               convert_hf_to_gguf.py gives GPT-NeoX; 1-D tensors f32, as it does.
                               The vocabulary is byte-level BPE of the folder's size (the 256 byte
                               symbols, then placeholders): the benchmark feeds token ids.
  quantize IN OUT TYPE         llama.cpp's quantizer (llama_model_quantize), TYPE q8_0|q4_0|q4_k
                               (LLAMA_FTYPE_MOSTLY_Q4_K_M); llama.cpp's own choices for the head
                               and embedding are kept.
  speed --gguf F --ids JSON --mode greedy|sample16 [--new-tokens 32] [--repeats 2] [--threads 2]
                               the workload of `proofstep model speed`: the prompt, exactly N new
                               tokens, greedy (batch 1) or 16 samples at temperature 1 (the prompt
                               decoded once, its cache copied to 16 sequences, then one batch of 16
                               tokens a step); tokens/s from the median of the repeats after one
                               untimed warm-up. Prints one JSON line with proofstep's field names.
"""
import argparse
import ctypes
import json
import os
import sys
import time

import numpy as np
from importlib.metadata import version


def peak_rss_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def bytes_to_unicode():
    """GPT-2's printable stand-ins for the 256 bytes (the first tokens of a byte-level vocab)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for _, c in sorted(zip(bs, cs))]


def convert(folder, out):
    import gguf
    from safetensors import safe_open

    c = json.load(open(f"{folder}/config.json"))
    d, heads, layers = c["hidden_size"], c["num_attention_heads"], c["num_hidden_layers"]
    w = gguf.GGUFWriter(out, "gptneox")
    w.add_context_length(c["max_position_embeddings"])
    w.add_embedding_length(d)
    w.add_block_count(layers)
    w.add_feed_forward_length(c["intermediate_size"])
    w.add_rope_dimension_count(int(c["rotary_pct"] * (d // heads)))
    w.add_head_count(heads)
    w.add_parallel_residual(c.get("use_parallel_residual", True))
    w.add_layer_norm_eps(c["layer_norm_eps"])
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    tokens = bytes_to_unicode()
    tokens += [f"t{i}" for i in range(len(tokens), c["vocab_size"])]
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_types([gguf.TokenType.NORMAL] * len(tokens))
    w.add_token_merges(["t 0"])
    w.add_bos_token_id(c["bos_token_id"])
    w.add_eos_token_id(c["eos_token_id"])
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.GPTNEOX, layers)
    with safe_open(f"{folder}/model.safetensors", framework="np") as f:
        for name in f.keys():
            t = f.get_tensor(name)
            if name.endswith("attention.query_key_value.weight"):
                # HF keeps q, k, v interleaved per head; llama.cpp wants all q, then k, then v.
                t = t.reshape(heads, 3, d // heads, d).transpose(1, 0, 2, 3).reshape(3 * d, d)
            elif name.endswith("attention.query_key_value.bias"):
                t = t.reshape(heads, 3, d // heads).transpose(1, 0, 2).reshape(3 * d)
            new = names.get_name(name, try_suffixes=(".weight", ".bias"))
            assert new is not None, f"no GGUF name for {name}"
            t = t.astype(np.float32) if t.ndim == 1 else t.astype(np.float16)
            w.add_tensor(new, np.ascontiguousarray(t))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"{out}: F16 GGUF of {folder}", file=sys.stderr)


def matrix_bytes(path):
    """Bytes of the matrices one decoding step reads: every 2-D tensor but the embedding."""
    import gguf

    r = gguf.GGUFReader(path)
    return int(sum(t.n_bytes for t in r.tensors if len(t.shape) == 2 and t.name != "token_embd.weight"))


def quantize(src, dst, kind):
    import llama_cpp.llama_cpp as L

    ftype = {"q8_0": L.LLAMA_FTYPE_MOSTLY_Q8_0, "q4_0": L.LLAMA_FTYPE_MOSTLY_Q4_0,
             "q4_k": L.LLAMA_FTYPE_MOSTLY_Q4_K_M}[kind]
    p = L.llama_model_quantize_default_params()
    p.ftype = ftype
    p.nthread = 2
    start = time.perf_counter()
    rc = L.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(p))
    assert rc == 0, f"llama_model_quantize returned {rc}"
    print(json.dumps({"quantizer": "llama.cpp", "weights": kind,
                      "quantize_seconds": time.perf_counter() - start, "bytes": os.path.getsize(dst)}))


def instruction_set(L):
    """The widest instruction set the loaded ggml was built for, named as proofstep's rows name
    theirs (`instruction_set`), from llama.cpp's own system info."""
    info = L.llama_print_system_info().decode()
    for flag, name in [("AMX_INT8 = 1", "amx"), ("AVX512_VNNI = 1", "avx512-vnni"),
                       ("AVX512 = 1", "avx512"), ("AVX2 = 1", "avx2")]:
        if flag in info:
            return name
    return "other"


def speed(a):
    import llama_cpp.llama_cpp as L

    prompt = json.loads(a.ids)
    sequences = 1 if a.mode == "greedy" else 16
    per_seq = len(prompt) + a.new_tokens + 8
    L.llama_backend_init()
    base_rss = peak_rss_mib()
    start = time.perf_counter()
    mp = L.llama_model_default_params()
    model = L.llama_model_load_from_file(a.gguf.encode(), mp)
    assert model, "llama.cpp could not load the model"
    cp = L.llama_context_default_params()
    cp.n_ctx = per_seq * sequences
    cp.n_batch = max(len(prompt), sequences)
    cp.n_ubatch = cp.n_batch
    cp.n_seq_max = sequences
    cp.n_threads = a.threads
    cp.n_threads_batch = a.threads
    cp.no_perf = True
    ctx = L.llama_init_from_model(model, cp)
    assert ctx, "llama.cpp could not make a context"
    load_s = time.perf_counter() - start
    load_rss = peak_rss_mib()
    n_vocab = L.llama_vocab_n_tokens(L.llama_model_get_vocab(model))
    mem = L.llama_get_memory(ctx)
    batch = L.llama_batch_init(max(len(prompt), sequences), 0, sequences)
    rng = np.random.default_rng(0)

    def decode(items):
        """items: (token, position, sequence, wants logits)."""
        batch.n_tokens = len(items)
        for i, (tok, pos, seq, out) in enumerate(items):
            batch.token[i] = tok
            batch.pos[i] = pos
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = seq
            batch.logits[i] = out
        assert L.llama_decode(ctx, batch) == 0, "llama_decode failed"

    def logits(i):
        return np.ctypeslib.as_array(L.llama_get_logits_ith(ctx, i), shape=(n_vocab,))

    def pick(row):
        if sequences == 1:
            return int(np.argmax(row))
        p = np.exp(row - row.max())
        return int(rng.choice(n_vocab, p=p / p.sum()))

    def run():
        L.llama_memory_clear(mem, True)
        n = len(prompt)
        decode([(t, i, 0, i == n - 1) for i, t in enumerate(prompt)])
        for s in range(1, sequences):
            L.llama_memory_seq_cp(mem, 0, s, -1, -1)
        last = logits(n - 1).copy()
        toks = [pick(last) for _ in range(sequences)]
        produced = sequences
        for step in range(1, a.new_tokens):
            decode([(toks[s], n + step - 1, s, True) for s in range(sequences)])
            toks = [pick(logits(s)) for s in range(sequences)]
            produced += sequences
        return produced

    seconds = []
    first_token_s = None
    for r in range(a.repeats + 1):
        t = time.perf_counter()
        produced = run()
        elapsed = time.perf_counter() - t
        assert produced == sequences * a.new_tokens
        if r == 0:
            first_token_s = load_s + elapsed
        else:
            seconds.append(elapsed)
    median = sorted(seconds)[len(seconds) // 2]
    peak = peak_rss_mib()
    step_bytes = matrix_bytes(a.gguf)  # after the peak is read: the reader maps the file
    print(json.dumps({"impl": "llama.cpp", "mode": a.mode, "weights": a.weights,
                      "load_seconds": load_s, "load_peak_rss_mib": load_rss,
                      "first_run_seconds_incl_load": first_token_s, "sequences": sequences,
                      "new_tokens": a.new_tokens, "prompt_tokens": len(prompt),
                      "seconds": seconds, "tokens_per_s": sequences * a.new_tokens / median,
                      "peak_rss_mib": peak, "base_rss_mib": base_rss,
                      "step_bytes": step_bytes, "llama_cpp_python": version("llama-cpp-python"),
                      "instruction_set": instruction_set(L),
                      "library": os.environ.get("LLAMA_CPP_LIB_PATH", "llama-cpp-python's own")}), flush=True)
    L.llama_batch_free(batch)
    L.llama_free(ctx)
    L.llama_model_free(model)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("convert")
    c.add_argument("folder")
    c.add_argument("out")
    q = sub.add_parser("quantize")
    q.add_argument("src")
    q.add_argument("dst")
    q.add_argument("kind", choices=["q8_0", "q4_0", "q4_k"])
    s = sub.add_parser("speed")
    s.add_argument("--gguf", required=True)
    s.add_argument("--weights", required=True, help="the label written to the output")
    s.add_argument("--ids", required=True)
    s.add_argument("--mode", required=True, choices=["greedy", "sample16"])
    s.add_argument("--new-tokens", type=int, default=32)
    s.add_argument("--repeats", type=int, default=2)
    s.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    if a.cmd == "convert":
        convert(a.folder, a.out)
    elif a.cmd == "quantize":
        quantize(a.src, a.dst, a.kind)
    else:
        speed(a)


if __name__ == "__main__":
    main()
