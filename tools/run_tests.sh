#!/usr/bin/env bash
# Set up everything (tools/setup_env.sh), then run the whole test suite.
#   bash tools/run_tests.sh [pytest options...]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV=${MMSSL_VENV:-$ROOT/.venv}
bash "$ROOT/tools/setup_env.sh"
cd "$ROOT"
echo "[tests] $VENV/bin/python -m pytest tests $*"
exec "$VENV/bin/python" -m pytest tests -q --durations=15 "$@"
