#!/usr/bin/env bash
# The main job on a fresh machine: set up everything (tools/setup_env.sh), pretrain MoCo v2
# on Fashion-MNIST on the CPU, and report the kNN top-1 of the backbone before and after.
# The demo needs no compiled mmcv ops, so the set-up installs mmcv without them unless the
# venv already has them (or MMSSL_WITH_OPS=1 is set).
#   bash tools/demo.sh            WORK_DIR (default work_dirs/demo) and CONFIG can be set.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV=${MMSSL_VENV:-$ROOT/.venv}
CONFIG=${CONFIG:-configs/mocov2/mocov2_resnet18_1xb256-coslr-2e_fmnist.py}
WORK_DIR=${WORK_DIR:-work_dirs/demo}

bash "$ROOT/tools/setup_env.sh"
cd "$ROOT"
echo "[demo] pretraining $CONFIG into $WORK_DIR"
echo "[demo] (kNN of the random initialisation first, then training, then kNN again)"
start=$(date +%s)
"$VENV/bin/python" tools/train.py "$CONFIG" --work-dir "$WORK_DIR"
echo "[demo] done in $(( $(date +%s) - start )) s; summary:"
"$VENV/bin/python" tools/analysis/knn_summary.py "$WORK_DIR" --out "$WORK_DIR/knn_summary.json"
