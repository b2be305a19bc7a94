#!/usr/bin/env bash
# Check that mmssl installs, imports and passes the fast unit tests on each supported Python.
# Not part of CI (each version needs its own torch: about 5 GB of venv, downloaded for the
# Pythons whose torch wheel is not on this machine's disk).
#   bash tools/install/check_pythons.sh [VERSION...] [-- PYTEST_ARGS...]
# VERSION: 3.10 3.11 3.12 by default, found with pyenv (else python3.X on PATH). Each gets a
# venv in $MMSSL_CACHE_DIR/pythons/pyX.Y (kept, so a second run takes seconds), set up by
# tools/setup_env.sh with mmcv without compiled ops, then `import mmssl` and the tests:
# by default the ones not marked slow or dist, less those that need mmcv's ops (mmdet's
# detectors). Prints a summary line per version; exits 1 if any failed.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CACHE_DIR=${MMSSL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mmssl}

versions=()
while (( $# )) && [[ $1 != -- ]]; do versions+=("$1"); shift; done
[[ ${1:-} == -- ]] && shift
(( ${#versions[@]} )) || versions=(3.10 3.11 3.12)
TESTS=("$@")
if (( ! ${#TESTS[@]} )); then
    TESTS=(tests -m "not slow and not dist"
           --ignore=tests/test_benchmarks/test_mmdet_transfer.py
           --deselect=tests/test_tools/test_model_converters.py::test_the_import_tool_writes_a_file_mmpretrain_and_mmdet_load
           --deselect=tests/test_tools/test_model_converters.py::test_extract_backbone_loads_into_mmdet_resnet
           --deselect=tests/test_install/test_mmcv_build.py::test_installed_mmcv_has_its_compiled_ops)
fi

find_python() {  # VERSION -> path of its interpreter
    if command -v pyenv >/dev/null && pyenv latest "$1" >/dev/null 2>&1; then
        echo "$(pyenv root)/versions/$(pyenv latest "$1")/bin/python"
    else
        command -v "python$1"
    fi
}

summary=()
failed=0
for v in "${versions[@]}"; do
    echo "[pythons] === Python $v ==="
    py=$(find_python "$v") || { summary+=("$v: no interpreter (pyenv install $v)"); failed=1; continue; }
    venv="$CACHE_DIR/pythons/py$v"
    start=$(date +%s)
    if ! MMSSL_VENV="$venv" PYTHON_BIN="$py" MMSSL_WITH_OPS=0 bash "$ROOT/tools/setup_env.sh"; then
        summary+=("$v: set-up FAILED ($py)"); failed=1; continue
    fi
    if ! "$venv/bin/python" -c "import mmssl, mmpretrain; print('[pythons] import mmssl', mmssl.__version__)"; then
        summary+=("$v: import mmssl FAILED"); failed=1; continue
    fi
    (cd "$ROOT" && "$venv/bin/python" -m pytest -q -p no:cacheprovider "${TESTS[@]}")
    rc=$?
    took=$(( $(date +%s) - start ))
    if (( rc == 0 )); then summary+=("$v: ok ($("$venv/bin/python" --version), ${took} s)")
    else summary+=("$v: tests FAILED (pytest exit $rc, ${took} s)"); failed=1; fi
done
echo "[pythons] summary:"
printf '[pythons]   %s\n' "${summary[@]}"
exit $failed
