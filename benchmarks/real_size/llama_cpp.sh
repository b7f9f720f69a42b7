#!/usr/bin/env bash
# llama.cpp's libraries (libllama, libggml*) built for one instruction-set LEVEL of this CPU
# (native, avx512 or avx2: benchmarks/common/llama_cpp_flags.sh) from the llama.cpp source vendored in
# PyPI's llama-cpp-python 0.3.36, the version benchmarks/.venv runs; built once (~5 min on 2
# cores) into benchmarks/out/llama_cpp/build-LEVEL. Prints its library folder (bin/, where
# libllama's RUNPATH finds the ggml libraries built beside it): anchor_llama_cpp.py loads it
# through llama-cpp-python's LLAMA_CPP_LIB_PATH, so the anchor's instruction sets are chosen, not
# whatever the pip build picked. Needs benchmarks/.venv (it installs cmake and ninja there).
# Usage: LLAMA_CPP_LIB_PATH=$(bash benchmarks/real_size/llama_cpp.sh avx2)
set -euo pipefail
cd "$(dirname "$0")/../.."
level=${1:?usage: llama_cpp.sh native|avx512|avx2}
flags=$(bash benchmarks/common/llama_cpp_flags.sh "$level")
version=0.3.36
sha256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
url=https://files.pythonhosted.org/packages/ec/e9/e7de2b0463ea3ffbf0ede6cb21b58c1258a8f6521aae45ca773a59fe7cf3/llama_cpp_python-$version.tar.gz
root=$PWD/benchmarks/out/llama_cpp
build=$root/build-$level
lib=$build/bin
venv=$PWD/benchmarks/.venv
if [[ ! -f $lib/libllama.so || $(cat "$build/flags" 2>/dev/null) != "$flags" ]]; then
  mkdir -p "$root"
  src=$root/llama_cpp_python-$version
  if [[ ! -d $src ]]; then
    curl -sSfL -o "$root/sdist.tar.gz" "$url"
    echo "$sha256  $root/sdist.tar.gz" | sha256sum -c --quiet
    rm -rf "$root/unpacking" && mkdir "$root/unpacking"
    tar xzf "$root/sdist.tar.gz" -C "$root/unpacking"
    mv "$root/unpacking/llama_cpp_python-$version" "$src" && rmdir "$root/unpacking"
  fi
  [[ -x $venv/bin/cmake && -x $venv/bin/ninja ]] || "$venv/bin/pip" install -q cmake ninja >&2
  rm -rf "$build"
  # shellcheck disable=SC2086 # the flags are words
  PATH=$venv/bin:$PATH cmake -S "$src/vendor/llama.cpp" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DBUILD_SHARED_LIBS=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
    -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_CURL=OFF $flags > "$root/cmake-$level.log" 2>&1
  PATH=$venv/bin:$PATH cmake --build "$build" --target llama -j "$(nproc)" > "$root/build-$level.log" 2>&1
  echo "$flags" > "$build/flags"
fi
echo "$lib"
