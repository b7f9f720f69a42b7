#!/usr/bin/env bash
# Runs on the borrowed GPU machine (benchmarks/README.md, "SmolLM2-135M fine-tuned on a GPU"),
# once per call: each call carries part of .gpu/ (prepare.sh) and leaves it in /tmp, which
# lasts while the machine stays warm; the call that completes the set reassembles the GGUF,
# checks it, fine-tunes (finetune_lora.py) and measures training speed (train_throughput.py),
# writing under $OUT. A call that finds the set incomplete says what it holds and stops.
set -euo pipefail
stash=/tmp/smollm2_gpu
mkdir -p "$stash"
for f in .gpu/part_a .gpu/part_b .gpu/gguf.sha256; do [[ -f $f ]] && cp "$f" "$stash/"; done
for d in .gpu/wheels .gpu/data .gpu/folder; do [[ -d $d ]] && cp -r "$d" "$stash/"; done
for need in part_a part_b gguf.sha256 wheels data folder; do
  [[ -e $stash/$need ]] || { echo "waiting for $need; holding: $(ls "$stash")"; exit 0; }
done
gguf=$stash/SmolLM2-135M-Instruct.Q4_1.gguf
cat "$stash/part_a" "$stash/part_b" > "$gguf"
echo "$(cat "$stash/gguf.sha256")  $gguf" | sha256sum -c -
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$stash"/wheels/*.whl
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)"
here=$(dirname "$0")
python3 "$here/finetune_lora.py" --gguf "$gguf" --folder "$stash/folder" \
  --train "$stash/data/proofstep-train.jsonl" --val "$stash/data/proofstep-val.jsonl" \
  --out "$OUT/lora" --epochs "${EPOCHS:-5}"
python3 "$here/train_throughput.py" --folder "$stash/folder" --train "$stash/data/proofstep-train.jsonl" \
  --out "$OUT/throughput.jsonl"
