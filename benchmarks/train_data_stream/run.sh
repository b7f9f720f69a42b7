#!/usr/bin/env bash
# Peak memory of `proofstep data leandojo` on a generated LeanDojo split file the size of the
# newer benchmark's train.json (373 MB), next to the seed's approach (Python json.load of the
# whole file) on the same file, in one run (see README.md, "train_data_stream").
# Usage: bash benchmarks/train_data_stream/run.sh [SIZE_MB]   (default 373)
set -euo pipefail
cd "$(dirname "$0")/../.."
size=${1:-373}
cargo build --quiet --release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 benchmarks/train_data_stream/gen.py "$work/leandojo_benchmark_4/random" "$size" ../shared/data/traces/llmstep-pythia2.8b-minif2f-test
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
mkdir -p benchmarks/out
out=benchmarks/out/train_data_stream.jsonl
bytes=$(stat -c %s "$work/leandojo_benchmark_4/random/train.json")
/usr/bin/time -f '%M %e' -o "$work/ps.time" target/release/proofstep data leandojo --input "$work" --out "$work/processed" > "$work/counts"
read -r ps_kb ps_s < "$work/ps.time"
/usr/bin/time -f '%M %e' -o "$work/py.time" python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(sum(len(t['traced_tactics']) for t in d))" "$work/leandojo_benchmark_4/random/train.json" > /dev/null
read -r py_kb py_s < "$work/py.time"
examples=$(grep -P '^train\t' "$work/counts" | cut -f2)
{
  echo "{\"impl\": \"proofstep data leandojo (release)\", \"file_bytes\": $bytes, \"train_examples\": $examples, \"peak_rss_mb\": $((ps_kb / 1024)), \"seconds\": $ps_s}"
  echo "{\"impl\": \"python json.load (the seed's data.py reading)\", \"file_bytes\": $bytes, \"peak_rss_mb\": $((py_kb / 1024)), \"seconds\": $py_s}"
} > "$out"
cat "$out"
