#!/usr/bin/env bash
# Fine-tune a downstream benchmark config (mmdet, mmseg) from an mmssl-pretrained backbone,
# with torchrun; what tools/benchmark/mmdetection/dist_train.sh and
# tools/benchmark/mmsegmentation/dist_train.sh share.
#   bash tools/benchmark/dist_train_pretrained.sh CONFIG GPUS PRETRAIN [train.py options...]
# PRETRAIN: the output of tools/model_converters/extract_backbone.py (an mmssl training
# checkpoint works too: only its backbone.* keys are read). It is set as every config key
# of PRETRAIN_KEYS (space-separated; default: model.backbone.init_cfg.checkpoint), merged
# into the caller's --cfg-options. Training goes through tools/dist_train.sh (mmengine's
# Runner).
set -euo pipefail
USAGE="usage: dist_train.sh CONFIG GPUS PRETRAIN [options]"
CONFIG=${1:?$USAGE}
GPUS=${2:?$USAGE}
PRETRAIN=${3:?$USAGE}
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
[[ -f "$PRETRAIN" ]] || { echo "dist_train.sh: PRETRAIN file not found: $PRETRAIN" >&2; exit 1; }

OPTIONS=()
for key in ${PRETRAIN_KEYS:-model.backbone.init_cfg.checkpoint}; do
    OPTIONS+=("$key=$PRETRAIN")
done
# Merge into the caller's --cfg-options if given (a second --cfg-options would replace it).
ARGS=()
MERGED=0
for arg in "${@:4}"; do
    ARGS+=("$arg")
    if [[ "$arg" == "--cfg-options" && $MERGED == 0 ]]; then ARGS+=("${OPTIONS[@]}"); MERGED=1; fi
done
(( MERGED )) || ARGS+=(--cfg-options "${OPTIONS[@]}")
exec bash "$ROOT/tools/dist_train.sh" "$CONFIG" "$GPUS" "${ARGS[@]}"
