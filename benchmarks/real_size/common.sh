# Shared by run.sh, alternate.sh and smollm2.sh (sourced): the llama.cpp build level for a CPU
# level, and the prompt every pythia-shaped row runs.

# The llama_cpp.sh level for proofstep's CPU level $1: LLAMA_CPU where set, else $1 — except
# `native` on a CPU with AMX, which gets avx512 (llama.cpp 0.3.36's AMX path segfaulted at the
# first decode on the 2-core Xeon VM).
llama_level() {
  if [[ -n ${LLAMA_CPU:-} ]]; then
    echo "$LLAMA_CPU"
  elif [[ $1 == native ]] && grep -qw amx_int8 /proc/cpuinfo; then
    echo avx512
  else
    echo "$1"
  fi
}

# The 64 random ids of the pythia-shaped prompt (vocabulary 50304), as a JSON list.
pythia_prompt_ids() {
  python3 -c "import json, random; r = random.Random(1); print(json.dumps([r.randrange(50304) for _ in range(64)]))"
}
