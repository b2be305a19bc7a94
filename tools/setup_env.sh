#!/usr/bin/env bash
# Set up everything mmssl needs on a fresh machine, idempotently, saying what it does:
#   1. the Debian data packages (Fashion-MNIST, labelme examples), if missing;
#   2. a virtual environment (.venv, or $MMSSL_VENV) with torch/torchvision;
#   3. onedl-mmcv from a wheel built once and cached outside the clone ($MMSSL_CACHE_DIR,
#      default ~/.cache/mmssl): without its compiled ops by default (mmssl, mmpretrain and
#      the demo use none; a minute to build), with them when MMSSL_WITH_OPS=1 (mmdet's
#      detectors, the test suite; 10 to 35 min to build on 2 cores). An mmcv with ops
#      already in the venv is kept;
#   4. mmssl itself (pip install -e .) with the rest of the pinned stack and test tools.
# tools/install/setup_plan.py decides steps 1 and 3. A second run takes seconds.
# Variables (docs/get_started.md): MMSSL_WITH_OPS=1, MMSSL_SKIP_DATA=1, MMSSL_FMNIST_ROOT,
# MMSSL_VENV, MMSSL_CACHE_DIR, PYTHON_BIN (the python that makes the venv), FORCE_CUDA,
# TORCH_CUDA_ARCH_LIST.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV=${MMSSL_VENV:-$ROOT/.venv}
PYTHON_BIN=${PYTHON_BIN:-python3}
PLAN="$ROOT/tools/install/setup_plan.py"
WITH_OPS=${MMSSL_WITH_OPS:-0}
say() { echo "[setup] $*"; }
[[ $WITH_OPS == 0 || $WITH_OPS == 1 ]] || { say "ERROR: MMSSL_WITH_OPS must be 0 or 1, got '$WITH_OPS'" >&2; exit 1; }

# 1. Data from Debian packages (real images; nothing downloads at run time).
data=$("$PYTHON_BIN" "$PLAN" data)
read -r how pkgs <<<"$data"
if [[ $how != none ]]; then
    SUDO=""; [[ $how == sudo ]] && SUDO=sudo
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086  # pkgs: package names, one word each
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $pkgs >/dev/null
fi

# 2. The virtual environment.
PY="$VENV/bin/python"
# pip's exit status decides; the filter drops only the "Location ... is ignored" notices
# that a pip config naming absent extra indexes prints on every lookup.
pip_install() { "$PY" -m pip install --quiet "$@" 2> >(grep -v "is ignored" >&2 || true); }
if [[ ! -x "$PY" ]]; then
    say "creating virtual environment $VENV ($("$PYTHON_BIN" --version))"
    "$PYTHON_BIN" -m venv "$VENV"
    pip_install --upgrade pip setuptools wheel
else
    say "virtual environment $VENV present"
fi

# Everything below is skipped when nothing it depends on has changed since the last run and
# the mmcv installed then (ops or lite) is enough now.
STAMP="$VENV/.mmssl-setup"
fingerprint=$(cat "$ROOT"/requirements.txt "$ROOT"/requirements/*.txt "$ROOT"/pyproject.toml \
              "$ROOT"/tools/install/build_mmcv_wheel.sh "$PLAN" | sha256sum | cut -c1-16)
stamp_fp="" stamp_kind=""
[[ -f "$STAMP" ]] && read -r stamp_fp stamp_kind < "$STAMP"
check="import mmssl, mmcv"; (( WITH_OPS )) && check+=", mmcv.ops"
if [[ "$stamp_fp" == "$fingerprint" && ( "$stamp_kind" == ops || $WITH_OPS == 0 ) ]] \
        && "$PY" -c "$check" 2>/dev/null; then
    say "packages up to date (requirements unchanged since the last setup; mmcv: $stamp_kind)"
    exit 0
fi

# 3. torch first (pinned pair), then mmcv: kept, or a wheel from the cache, built if missing.
say "installing torch/torchvision (requirements/torch.txt)"
pip_install -r "$ROOT/requirements/torch.txt"
say "installing numpy, opencv, mmengine (what the mmcv build needs)"
pip_install -r "$ROOT/requirements/runtime.txt" onedl-mmengine==0.10.12 ninja psutil
ops_flag=()
if (( WITH_OPS )); then
    say "mmcv's compiled ops are wanted (MMSSL_WITH_OPS=1)"
    ops_flag=(--ops)
fi
plan=$("$PY" "$PLAN" mmcv "${ops_flag[@]}")
read -r action kind mmcv_version force_cuda arch_list wheel_dir <<<"$plan"
if [[ $action == build ]]; then
    [[ $arch_list == - ]] && arch_list=""
    FORCE_CUDA=$force_cuda TORCH_CUDA_ARCH_LIST=$arch_list \
        bash "$ROOT/tools/install/build_mmcv_wheel.sh" "$PY" "$kind" "$mmcv_version" "$wheel_dir" >/dev/null
fi
if [[ $action != keep ]]; then
    wheels=("$wheel_dir"/onedl_mmcv-*.whl)
    say "installing $(basename "${wheels[0]}") ($kind)"
    pip_install --no-deps --force-reinstall "${wheels[0]}"
fi

# 4. The rest of the stack, mmssl (editable) and the test tools.
say "installing mmpretrain, mmdet, mmseg, mmssl (pip install -e .) and test tools"
pip_install -r "$ROOT/requirements.txt" -e "$ROOT"
say "installing test-only references without their dependencies (requirements/tests-nodeps.txt)"
pip_install --no-deps -r "$ROOT/requirements/tests-nodeps.txt"
"$PY" - "$kind" <<'PYEOF'
import sys

import mmcv, mmdet, mmengine, mmpretrain, mmseg, numpy, torch
import mmssl  # noqa: F401
if sys.argv[1] == 'ops':
    from mmcv.ops import nms, roi_align  # noqa: F401  (the compiled ops)
print(f'[setup] torch {torch.__version__}, numpy {numpy.__version__}, mmengine '
      f'{mmengine.__version__}, mmcv {mmcv.__version__} ({sys.argv[1]}), mmpretrain '
      f'{mmpretrain.__version__}, mmdet {mmdet.__version__}, mmseg {mmseg.__version__}')
PYEOF
echo "$fingerprint $kind" > "$STAMP"
[[ $kind == lite ]] && say "mmcv has no compiled ops (enough for mmssl and the demo); mmdet's" \
    "detectors and the test suite need them: MMSSL_WITH_OPS=1 bash tools/setup_env.sh"
say "done; activate with: source $VENV/bin/activate"
