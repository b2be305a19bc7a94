#!/usr/bin/env bash
# Set up everything (tools/setup_env.sh) with mmcv's compiled ops, then run the whole suite.
# The ops are needed by mmdet's detectors, which the detection-transfer tests build; on a
# machine without a cached ops wheel the set-up builds it once (10 to 35 min on 2 cores).
#   bash tools/run_tests.sh [pytest options...]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV=${MMSSL_VENV:-$ROOT/.venv}
echo "[tests] the suite needs mmcv's compiled ops (mmdet's detectors): MMSSL_WITH_OPS=1"
MMSSL_WITH_OPS=1 bash "$ROOT/tools/setup_env.sh"
cd "$ROOT"
echo "[tests] $VENV/bin/python -m pytest tests $*"
exec "$VENV/bin/python" -m pytest tests -q --durations=15 "$@"
