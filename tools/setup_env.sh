#!/usr/bin/env bash
# Set up everything mmssl needs on a fresh machine, idempotently, saying what it does:
#   1. the Debian data packages (Fashion-MNIST, labelme examples), if missing;
#   2. a virtual environment (.venv, or $MMSSL_VENV) with torch/torchvision;
#   3. onedl-mmcv with its compiled ops, from a wheel built once and cached outside the
#      clone ($MMSSL_CACHE_DIR, default ~/.cache/mmssl; see tools/install/build_mmcv_wheel.sh);
#   4. mmssl itself (pip install -e .) with the rest of the pinned stack and test tools.
# A second run finds everything in place and takes seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV=${MMSSL_VENV:-$ROOT/.venv}
PYTHON_BIN=${PYTHON_BIN:-python3}
say() { echo "[setup] $*"; }

# 1. Data from Debian packages (real images; nothing downloads at run time).
need_pkgs=()
[[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]] || need_pkgs+=(dataset-fashion-mnist)
[[ -d /usr/share/doc/labelme-examples/examples ]] || need_pkgs+=(labelme-examples)
if (( ${#need_pkgs[@]} )); then
    SUDO=""
    if [[ $(id -u) != 0 ]]; then
        command -v sudo >/dev/null || { say "ERROR: need root or sudo to apt-get install ${need_pkgs[*]}"; exit 1; }
        SUDO=sudo
    fi
    say "installing Debian packages: ${need_pkgs[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
else
    say "Debian data packages present (dataset-fashion-mnist, labelme-examples)"
fi

# 2. The virtual environment.
PY="$VENV/bin/python"
# pip's exit status decides; the filter drops only the "Location ... is ignored" notices
# that a pip config naming absent extra indexes prints on every lookup.
pip_install() { "$PY" -m pip install --quiet "$@" 2> >(grep -v "is ignored" >&2 || true); }
if [[ ! -x "$PY" ]]; then
    say "creating virtual environment $VENV"
    "$PYTHON_BIN" -m venv "$VENV"
    pip_install --upgrade pip setuptools wheel
else
    say "virtual environment $VENV present"
fi

# Everything below is skipped when nothing it depends on has changed since the last run.
STAMP="$VENV/.mmssl-setup"
fingerprint=$(cat "$ROOT"/requirements.txt "$ROOT"/requirements/*.txt "$ROOT"/pyproject.toml \
              "$ROOT"/tools/install/build_mmcv_wheel.sh | sha256sum | cut -c1-16)
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$fingerprint" ]] && "$PY" -c "import mmssl, mmcv.ops" 2>/dev/null; then
    say "packages up to date (requirements unchanged since the last setup)"
    exit 0
fi

# 3. torch first (pinned pair), then the mmcv wheel built against it.
say "installing torch/torchvision (requirements/torch.txt)"
pip_install -r "$ROOT/requirements/torch.txt"
say "installing numpy, opencv, mmengine (what the mmcv build needs)"
pip_install -r "$ROOT/requirements/runtime.txt" onedl-mmengine==0.10.12 ninja psutil
MMCV_WHEEL=$(bash "$ROOT/tools/install/build_mmcv_wheel.sh" "$PY" | tail -n 1)
say "installing $(basename "$MMCV_WHEEL")"
pip_install "$MMCV_WHEEL"

# 4. The rest of the stack, mmssl (editable) and the test tools.
say "installing mmpretrain, mmdet, mmssl (pip install -e .) and test tools"
pip_install -r "$ROOT/requirements.txt" -e "$ROOT"
say "installing test-only references without their dependencies (requirements/tests-nodeps.txt)"
pip_install --no-deps -r "$ROOT/requirements/tests-nodeps.txt"
"$PY" - <<'PYEOF'
import mmcv, mmdet, mmengine, mmpretrain, numpy, torch
from mmcv.ops import nms, roi_align  # noqa: F401  (the compiled ops)
print(f'[setup] torch {torch.__version__}, numpy {numpy.__version__}, mmengine '
      f'{mmengine.__version__}, mmcv {mmcv.__version__} (ops), mmpretrain '
      f'{mmpretrain.__version__}, mmdet {mmdet.__version__}')
PYEOF
echo "$fingerprint" > "$STAMP"
say "done; activate with: source $VENV/bin/activate"
