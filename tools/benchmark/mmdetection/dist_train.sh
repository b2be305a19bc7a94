#!/usr/bin/env bash
# Fine-tune an mmdet benchmark config from an mmssl-pretrained backbone, with torchrun.
#   bash tools/benchmark/mmdetection/dist_train.sh CONFIG GPUS PRETRAIN [train.py options...]
# PRETRAIN: the output of tools/model_converters/extract_backbone.py (an mmssl training
# checkpoint works too: only its backbone.* keys are read). It is set as the backbone's
# init_cfg.checkpoint and, for the C4 configs whose res5 stage sits in the RoI head, as the
# shared head's too. Training goes through tools/dist_train.sh (mmengine's Runner).
set -euo pipefail
USAGE="usage: dist_train.sh CONFIG GPUS PRETRAIN [options]"
CONFIG=${1:?$USAGE}
GPUS=${2:?$USAGE}
PRETRAIN=${3:?$USAGE}
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
[[ -f "$PRETRAIN" ]] || { echo "dist_train.sh: PRETRAIN file not found: $PRETRAIN" >&2; exit 1; }

OPTIONS=("model.backbone.init_cfg.checkpoint=$PRETRAIN")
if grep -q "shared_head" "$CONFIG"; then
    OPTIONS+=("model.roi_head.shared_head.init_cfg.checkpoint=$PRETRAIN")
fi
# Merge into the caller's --cfg-options if given (a second --cfg-options would replace it).
ARGS=()
MERGED=0
for arg in "${@:4}"; do
    ARGS+=("$arg")
    if [[ "$arg" == "--cfg-options" && $MERGED == 0 ]]; then ARGS+=("${OPTIONS[@]}"); MERGED=1; fi
done
(( MERGED )) || ARGS+=(--cfg-options "${OPTIONS[@]}")
exec bash "$ROOT/tools/dist_train.sh" "$CONFIG" "$GPUS" "${ARGS[@]}"
