#!/usr/bin/env bash
# proofstep's quick start: install the test world's Lean (lean/mini), build proofstep, and prove
# `test_thm` of lean/mini/Example.lean with the committed default model (models/testworld-small),
# printing the proof. Needs x86_64 Linux, python3 with pip, gcc and a Rust toolchain.
set -euo pipefail
cd "$(dirname "$0")"
echo "== 1/3 test-world Lean (lean/mini/setup.sh)" >&2
bash lean/mini/setup.sh >/dev/null
echo "== 2/3 cargo build --release" >&2
cargo build --release --bin proofstep
echo "== 3/3 proofstep prove test_thm (default model: models/testworld-small)" >&2
# No --model: prove uses the default model, models/testworld-small.
# No tuning flag either: the defaults were chosen on the val split (benchmarks/README.md, defaults).
exec target/release/proofstep prove --file lean/mini/Example.lean --theorem test_thm "$@"
