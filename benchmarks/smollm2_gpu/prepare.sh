#!/usr/bin/env bash
# Stages what the GPU machine needs under .gpu/ (ignored by git): the SmolLM2 GGUF in two
# halves (each call to the borrowed machine takes at most 64 MiB), the gguf wheel transformers
# reads it with, the train / val pairs and the imported folder's tokenizer and config.
# Usage: CORPUS_DATA=DIR bash benchmarks/smollm2_gpu/prepare.sh   (DIR holds proofstep-{train,val}.jsonl;
#        default: the beyond-automation corpus's, benchmarks/out/beyond/pipeline_smollm2/data)
set -euo pipefail
cd "$(dirname "$0")/../.."
source benchmarks/common/smollm2.sh
DATA=${CORPUS_DATA:-benchmarks/out/beyond/pipeline_smollm2/data}
FOLDER=benchmarks/out/model_speed/smollm2-135m
smollm2_folder "$FOLDER"
gguf=$(smollm2_gguf)
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo /.gpu/ >> .git/info/exclude
rm -rf .gpu && mkdir -p .gpu/wheels .gpu/data .gpu/folder
half=$(( ($(stat -c %s "$gguf") + 1) / 2 ))
head -c "$half" "$gguf" > .gpu/part_a
tail -c +"$((half + 1))" "$gguf" > .gpu/part_b
sha256sum "$gguf" | cut -c1-64 > .gpu/gguf.sha256
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 -d .gpu/wheels gguf==0.19.0
cp "$DATA"/proofstep-train.jsonl "$DATA"/proofstep-val.jsonl .gpu/data/
cp "$FOLDER"/config.json "$FOLDER"/tokenizer.json .gpu/folder/
du -sh .gpu/*
