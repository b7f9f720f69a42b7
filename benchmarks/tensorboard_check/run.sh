#!/usr/bin/env bash
# Reads the TensorBoard event files of `proofstep train --report_to tensorboard` with TensorBoard's
# own reader (EventAccumulator): a 6-step run from scratch, then the same run resumed from its
# checkpoint-4 into the same logging dir, so TensorBoard must drop the first run's steps 5-6 (the
# resumed file's START session log) and show each step once, with the values metrics.jsonl holds.
# Installs tensorboard into benchmarks/.venv if missing. Prints one JSON line; exits non-zero when
# a check fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=benchmarks/.venv
[[ -x $venv/bin/python ]] || python3 -m venv "$venv"
$venv/bin/python -c "import tensorboard" 2>/dev/null || $venv/bin/pip install -q tensorboard
cargo build -q --bin proofstep
work=benchmarks/out/tensorboard_check
rm -rf "$work" && mkdir -p "$work"
$venv/bin/python - "$work/steps.jsonl" <<'PY'
import json, sys
steps = [("m n : Nat\nh : m = n\n⊢ n + 0 = m", "rw [Nat.add_zero]"), ("p q : Prop\nh : p ∧ q\n⊢ q ∧ p", "constructor"),
         ("p : Prop\nhp : p\n⊢ p ∨ False", "left"), ("a b : Nat\n⊢ a + b = b + a", "omega")]
with open(sys.argv[1], "w") as f:
    for s, t in steps:
        f.write(json.dumps({"input": f"[GOAL]{s}[PROOFSTEP]", "output": f"{t}<|endoftext|>"}) + "\n")
PY
train() {
  target/debug/proofstep train --from_scratch llama-tiny --tokenizer models/testworld-small \
    --train_data_path "$work/steps.jsonl" --valid_data_path "$work/steps.jsonl" \
    --output_dir "$work/out" --logging_dir "$work/logs" --max_steps 6 --per_device_train_batch_size 2 \
    --logging_steps 1 --evaluation_strategy steps --eval_steps 2 --save_strategy steps --save_steps 2 \
    --model_max_length 128 --threads 1 --report_to tensorboard "$@" > /dev/null
}
train
sleep 1.1   # event files are named by the second they start in
train --resume_from_checkpoint "$work/out/checkpoint-4"
$venv/bin/python benchmarks/tensorboard_check/check.py "$work/logs"
