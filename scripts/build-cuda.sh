#!/usr/bin/env bash
# Builds proofstep with candle's CUDA backend (`--features cuda`, `--device cuda`), on a machine
# with or without a GPU. Without a CUDA toolkit of your own (CUDA_HOME unset), it takes one from
# PyPI: NVIDIA's CUDA 13.0 wheels (nvcc, the runtime, cuBLAS, cuRAND, NVRTC; ~675 MB once, kept
# in .cuda/), made to look like a CUDA_HOME: unversioned library links and a link-time stub of
# the driver's libcuda.so.1 (the real one comes with the NVIDIA driver where the binary runs).
#
#   bash scripts/build-cuda.sh          release build: target/cuda/release/proofstep
#   bash scripts/build-cuda.sh check    compile check only (what CI runs)
#
# Environment: CUDA_HOME (an installed toolkit, 12.x or 13.x; the wheels are then not fetched),
# CUDA_COMPUTE_CAP (default 90: H100/H200; 80 for A100, 89 for L4/RTX 40xx, 120 for RTX 50xx),
# PROOFSTEP_CUDA_DIR (where the wheels go, default .cuda/). The build goes to target/cuda so the
# CPU build in target/ is untouched. Where it runs, the binary needs the driver's libcuda.so.1
# and the CUDA 13 libraries it links (`ldd target/cuda/release/proofstep` names them: cuBLAS,
# cuBLASLt, cuRAND, NVRTC, the runtime) from a CUDA install, or a PyTorch cu13 environment's
# site-packages/nvidia/cu13/lib on LD_LIBRARY_PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-build}
case $mode in
  build) cargo_cmd=(build --release) ;;
  check) cargo_cmd=(check) ;;
  *) echo "usage: bash scripts/build-cuda.sh [build|check]" >&2; exit 2 ;;
esac

# The pinned toolkit: 13.0 asks the least of the driver (>= 580) of the CUDA 13 line, and the
# CUDA 12 wheels ship no nvcc. cudarc (through candle) knows CUDA <= 13.4.
WHEELS=(nvidia-cuda-nvcc==13.0.88 nvidia-nvvm==13.0.88 nvidia-cuda-crt==13.0.88
  nvidia-cuda-runtime==13.0.96 nvidia-cuda-cccl==13.0.85 nvidia-cublas==13.0.2.14
  nvidia-curand==10.4.0.35 nvidia-cuda-nvrtc==13.0.88)

if [[ -z ${CUDA_HOME:-} ]]; then
  prefix=${PROOFSTEP_CUDA_DIR:-$PWD/.cuda}
  root=$prefix/nvidia/cu13
  if [[ ! -x $root/bin/nvcc ]]; then
    echo "build-cuda: fetching the CUDA 13.0 toolkit wheels from PyPI into $prefix" >&2
    [[ -x $prefix/venv/bin/pip ]] || python3 -m venv "$prefix/venv"
    "$prefix/venv/bin/pip" install --quiet --no-deps --target "$prefix" "${WHEELS[@]}"
  fi
  lib=$root/lib
  # The wheels carry only versioned libraries; the linker looks for the plain names.
  for so in "$lib"/lib*.so.*; do
    base=${so##*/}
    ln -sfn "$base" "$lib/${base%%.so.*}.so"
  done
  [[ -e $root/lib64 ]] || ln -s lib "$root/lib64"
  # libcuda comes with the driver: link against a stub with its soname that defines every
  # driver entry point cudarc declares (as NVIDIA's own lib/stubs/libcuda.so does).
  if [[ ! -e $lib/stubs/libcuda.so ]]; then
    mkdir -p "$lib/stubs"
    cargo fetch --quiet
    version=$(grep -A1 '^name = "cudarc"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')
    sys=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cudarc-"$version"/src/driver/sys/mod.rs | head -1)
    grep -oE '^ *pub (unsafe )?fn cu[A-Za-z0-9_]+' "$sys" | grep -oE 'cu[A-Za-z0-9_]+$' | sort -u |
      sed 's/.*/int &(void) { return 999; }/' > "$lib/stubs/libcuda_stub.c"
    cc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$lib/stubs/libcuda.so" "$lib/stubs/libcuda_stub.c"
  fi
  export CUDA_HOME=$root
fi
export CUDA_PATH=$CUDA_HOME CUDA_ROOT=$CUDA_HOME NVCC=$CUDA_HOME/bin/nvcc
export PATH=$CUDA_HOME/bin:$PATH
export CUDA_COMPUTE_CAP=${CUDA_COMPUTE_CAP:-90}
cargo "${cargo_cmd[@]}" --features cuda --target-dir target/cuda -p proofstep --bins
if [[ $mode == build ]]; then
  # A compressed copy (the kernels make the binary ~75 MB; ~11 MB in xz) for carrying it to a
  # GPU machine with a transfer limit; benchmarks/gpu/run.sh unpacks it when the binary is absent.
  xz -T0 -6 -c target/cuda/release/proofstep > target/cuda/proofstep.xz.tmp
  mv target/cuda/proofstep.xz.tmp target/cuda/proofstep.xz
  echo "build-cuda: target/cuda/release/proofstep (sm_$CUDA_COMPUTE_CAP; xz copy target/cuda/proofstep.xz); run it with --device cuda" >&2
fi
