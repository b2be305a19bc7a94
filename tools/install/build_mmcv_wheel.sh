#!/usr/bin/env bash
# Build a wheel of onedl-mmcv, with or without its compiled ops, into a cache folder.
# tools/setup_env.sh calls it when tools/install/setup_plan.py finds no cached wheel; the
# plan names the folder (its key: mmcv version, and for the ops torch version, Python,
# cpu or cuXY with the CUDA architectures, machine) and sets FORCE_CUDA/TORCH_CUDA_ARCH_LIST.
#
# ops:  onedl-mmcv ships only as an sdist, and its setup.py hard-codes `-std=c++14`/
#       `-std=c++17` in extra_compile_args (they come last on the compiler line, so CFLAGS
#       cannot override them), while torch >= 2.10's ATen headers stop with "#error C++20 or
#       later compatible compiler is required". The one patch applied here rewrites those
#       flags to C++20; nothing else changes. Built against the venv's torch (about 17 min
#       on 2 cores for the CPU ops). tests/test_install/test_mmcv_build.py shows the
#       breakage and that the installed ops run.
# lite: the same sdist built in pip's isolated build environment, which has no torch, so
#       setup.py leaves the ops out ("Skip building ext ops due to the absence of torch"):
#       a pure-Python wheel in seconds, for any Python and torch. mmssl and mmpretrain
#       import no mmcv.ops; mmdet's detectors do.
#
# Usage: build_mmcv_wheel.sh PYTHON ops|lite VERSION WHEEL_DIR   prints the wheel's path last
#        build_mmcv_wheel.sh --patch SETUP_PY                    applies only the patch
# Env:   FORCE_CUDA (1: CUDA ops), TORCH_CUDA_ARCH_LIST, MAX_JOBS (default: number of cores).
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

USAGE="usage: build_mmcv_wheel.sh PYTHON ops|lite VERSION WHEEL_DIR"
PY=${1:?$USAGE}
KIND=${2:?$USAGE}
VERSION=${3:?$USAGE}
WHEEL_DIR=${4:?$USAGE}
[[ $KIND == ops || $KIND == lite ]] || { echo "[mmcv] ERROR: KIND must be ops or lite, got '$KIND'" >&2; exit 1; }
PY="$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")"   # absolute, keeping the venv's symlink

if [[ $KIND == ops ]]; then
    echo "[mmcv] building onedl-mmcv $VERSION with its compiled ops (FORCE_CUDA=${FORCE_CUDA:-0}" \
         "TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-}): ~75 C++ files, about 17 min on 2 cores" \
         "for the CPU ops, once; later set-ups reuse $WHEEL_DIR" >&2
else
    echo "[mmcv] building onedl-mmcv $VERSION without compiled ops (seconds), once" >&2
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# pip's own exit status decides; the filter only drops the "Location ... is ignored"
# notices that a pip config with absent extra indexes prints.
quiet_pip() { "$PY" -m pip "$@" 2> >(grep -v "is ignored" >&2 || true); }
quiet_pip download --quiet --no-deps --no-binary :all: "onedl-mmcv==$VERSION" -d "$WORK"
tar xzf "$WORK"/onedl_mmcv-"$VERSION".tar.gz -C "$WORK"
SRC="$WORK/onedl_mmcv-$VERSION"
patch_cxx_standard "$SRC/setup.py"

if [[ $KIND == ops ]]; then
    ( cd "$SRC" && FORCE_CUDA="${FORCE_CUDA:-0}" MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
        quiet_pip wheel --quiet --no-build-isolation --no-deps -w "$WORK/dist" . )
else
    ( cd "$SRC" && unset PIP_NO_BUILD_ISOLATION && quiet_pip wheel --quiet --no-deps -w "$WORK/dist" . )
fi
shopt -s nullglob
built=("$WORK"/dist/onedl_mmcv-*.whl)
(( ${#built[@]} == 1 )) || { echo "[mmcv] ERROR: the build produced no wheel" >&2; exit 1; }
if [[ $KIND == lite && ${built[0]} != *-py3-none-any.whl ]]; then
    echo "[mmcv] ERROR: expected a pure-Python wheel without ops, got $(basename "${built[0]}")" \
         "(was torch in pip's build environment?)" >&2
    exit 1
fi

# Publish atomically: a half-copied wheel never sits under its final name.
mkdir -p "$WHEEL_DIR"
cp "${built[0]}" "$WHEEL_DIR/.partial.whl"
mv "$WHEEL_DIR/.partial.whl" "$WHEEL_DIR/$(basename "${built[0]}")"
echo "[mmcv] cached $WHEEL_DIR/$(basename "${built[0]}")" >&2
echo "$WHEEL_DIR/$(basename "${built[0]}")"
