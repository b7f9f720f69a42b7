#!/usr/bin/env bash
# What `eval` adds before searching: the model's fingerprint (small files whole, each weights
# file's header and eight 64 KiB samples), the dataset's fingerprint, the lock and the settings
# check. Timed as a whole refused run (a results file with no recorded settings, so eval stops
# right after the check), with the default model and with a 1 GiB weights file, warm and with
# the big file dropped from the page cache.
# Usage: bash benchmarks/eval_settings_check.sh   (builds target/release/proofstep)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/big"
cp models/testworld-small/{config.json,generation_config.json,tokenizer.json,tokenizer_config.json} "$work/big/"
python3 - "$work/big/model.safetensors" <<'PY'
import json, os, struct, sys
n = 1 << 30
header = json.dumps({"w": {"dtype": "U8", "shape": [n], "data_offsets": [0, n]}}).encode()
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(header)) + header)
    chunk = os.urandom(1 << 24)
    for _ in range(n >> 24):
        f.write(chunk)
PY
echo '{"name":"x","proved":false}' > "$work/r.jsonl"
run() {
  /usr/bin/time -f "$1: %e s, peak %M kB" target/release/proofstep eval --dataset lean/mini/Example.lean \
    --out "$work/r.jsonl" --model "$2" 2>&1 | grep -v "no record of the settings\|non-zero status" || true
}
for _ in 1 2 3; do run "default model (0.7 MB of weights), warm" models/testworld-small; done
for _ in 1 2 3; do run "1 GiB weights, warm" "$work/big"; done
for _ in 1 2 3; do
  python3 -c "import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)" "$work/big/model.safetensors"
  run "1 GiB weights, dropped from the page cache" "$work/big"
done
