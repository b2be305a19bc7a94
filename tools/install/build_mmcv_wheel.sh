#!/usr/bin/env bash
# Build (once) and cache a wheel of onedl-mmcv with its compiled ops for the torch in a venv.
#
# Why: onedl-mmcv ships only as an sdist, and its setup.py hard-codes `-std=c++14`/`-std=c++17`
# in extra_compile_args (they come last on the compiler line, so CFLAGS cannot override them),
# while torch >= 2.10's ATen headers stop with "#error C++20 or later compatible compiler is
# required". The one patch applied here rewrites those flags to C++20; nothing else changes.
# tests/test_install/test_mmcv_build.py shows the breakage and that the installed ops run.
#
# Usage: build_mmcv_wheel.sh PYTHON          prints the cached wheel's path as its last line
#        build_mmcv_wheel.sh --patch SETUP_PY  applies only the patch (what the tests check)
# Env:   MMSSL_CACHE_DIR (default ~/.cache/mmssl), MMCV_VERSION (default 2.3.6),
#        FORCE_CUDA=1 to build the CUDA ops (default: 1 when nvcc is on PATH and torch sees a GPU),
#        MAX_JOBS (default: number of cores).
set -euo pipefail

# The patch: every C++14/17 standard flag in setup.py becomes C++20 (gcc and MSVC spellings).
patch_cxx_standard() {
    sed -i -E 's/(-std=|\/std:)c\+\+1[47]/\1c++20/g' "$1"
    if grep -qE '(-std=|/std:)c\+\+1[47]' "$1"; then
        echo "[mmcv] ERROR: could not patch the C++ standard flags in $1" >&2
        return 1
    fi
}
if [[ "${1:-}" == --patch ]]; then
    patch_cxx_standard "${2:?usage: build_mmcv_wheel.sh --patch SETUP_PY}"
    exit 0
fi

PY=${1:?usage: build_mmcv_wheel.sh PYTHON}
PY="$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")"   # absolute, keeping the venv's symlink
MMCV_VERSION=${MMCV_VERSION:-2.3.6}
CACHE_DIR=${MMSSL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mmssl}

read -r TORCH_VERSION PY_TAG GPU_CUDA < <("$PY" - <<'PYEOF'
import sys, torch
gpu_cuda = torch.version.cuda if torch.cuda.is_available() else None
print(torch.__version__.split('+')[0], f"cp{sys.version_info.major}{sys.version_info.minor}",
      gpu_cuda or "none")
PYEOF
)
if [[ -z "${FORCE_CUDA:-}" ]]; then
    if command -v nvcc >/dev/null 2>&1 && [[ "$GPU_CUDA" != none ]]; then FORCE_CUDA=1; else FORCE_CUDA=0; fi
fi
TORCH_CUDA=$("$PY" -c 'import torch; print((torch.version.cuda or "").replace(".", ""))')
if [[ "$FORCE_CUDA" == 1 ]]; then FLAVOUR="cu$TORCH_CUDA"; else FLAVOUR=cpu; fi

KEY="onedl-mmcv-${MMCV_VERSION}_torch-${TORCH_VERSION}_${PY_TAG}_${FLAVOUR}_$(uname -m)"
WHEEL_DIR="$CACHE_DIR/wheels/$KEY"
shopt -s nullglob
cached=("$WHEEL_DIR"/onedl_mmcv-*.whl)
if (( ${#cached[@]} )); then
    echo "[mmcv] cached wheel found: ${cached[0]}" >&2
    echo "${cached[0]}"
    exit 0
fi

echo "[mmcv] no cached wheel for $KEY; building onedl-mmcv $MMCV_VERSION with ops ($FLAVOUR)." >&2
echo "[mmcv] this compiles ~75 C++ files once (about 17 min on 2 cores); later installs reuse it." >&2
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# pip's own exit status decides; the filter only drops the "Location ... is ignored"
# notices that a pip config with absent extra indexes prints.
quiet_pip() { "$PY" -m pip "$@" 2> >(grep -v "is ignored" >&2 || true); }
quiet_pip download --quiet --no-deps --no-binary :all: "onedl-mmcv==$MMCV_VERSION" -d "$WORK"
tar xzf "$WORK"/onedl_mmcv-"$MMCV_VERSION".tar.gz -C "$WORK"
SRC="$WORK/onedl_mmcv-$MMCV_VERSION"

patch_cxx_standard "$SRC/setup.py"

( cd "$SRC" && MMCV_WITH_OPS=1 FORCE_CUDA="$FORCE_CUDA" MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
    quiet_pip wheel --quiet --no-build-isolation --no-deps -w "$WORK/dist" . )
built=("$WORK"/dist/onedl_mmcv-*.whl)
(( ${#built[@]} == 1 )) || { echo "[mmcv] ERROR: the build produced no wheel" >&2; exit 1; }

# Publish atomically: a half-copied wheel never sits under its final name.
mkdir -p "$WHEEL_DIR"
cp "${built[0]}" "$WHEEL_DIR/.partial.whl"
mv "$WHEEL_DIR/.partial.whl" "$WHEEL_DIR/$(basename "${built[0]}")"
echo "[mmcv] cached $WHEEL_DIR/$(basename "${built[0]}")" >&2
echo "$WHEEL_DIR/$(basename "${built[0]}")"
