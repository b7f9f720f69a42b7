#!/usr/bin/env bash
# The CMake flags that build llama.cpp (ggml) for one instruction-set LEVEL of this CPU, the one
# copy used by every benchmark that builds llama.cpp (remote_predictor/run.sh, real_size/llama_cpp.sh):
#   native  -march=native: everything the compiler finds, AMX included where the CPU lists it;
#   avx512  AVX-512 with each extension /proc/cpuinfo lists (VNNI, VBMI, BF16), AVX-VNNI, no AMX
#           (a VM that does not grant AMX's tile state faults on it);
#   avx2    AVX2, FMA, F16C, BMI2 and nothing wider: what an AVX2-only CPU (AMD Zen 3) runs.
# Usage: bash benchmarks/common/llama_cpp_flags.sh LEVEL   (prints the flags on one line)
set -euo pipefail
has() { grep -qw "$1" /proc/cpuinfo; }
on() { has "$1" && echo ON || echo OFF; }
case ${1:-} in
  native) echo "-DGGML_NATIVE=ON" ;;
  avx512)
    has avx512f || { echo "this CPU has no AVX-512: use avx2" >&2; exit 2; }
    echo "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=$(on bmi2)" \
      "-DGGML_AVX_VNNI=$(on avx_vnni) -DGGML_AVX512=ON -DGGML_AVX512_VNNI=$(on avx512_vnni)" \
      "-DGGML_AVX512_VBMI=$(on avx512vbmi) -DGGML_AVX512_BF16=$(on avx512_bf16)" \
      "-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF" ;;
  avx2)
    has avx2 || { echo "this CPU has no AVX2" >&2; exit 2; }
    echo "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=$(on bmi2)" \
      "-DGGML_AVX_VNNI=OFF -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF" ;;
  *) echo "usage: llama_cpp_flags.sh native|avx512|avx2" >&2; exit 2 ;;
esac
