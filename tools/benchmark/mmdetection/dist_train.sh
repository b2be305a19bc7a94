#!/usr/bin/env bash
# Fine-tune an mmdet benchmark config from an mmssl-pretrained backbone, with torchrun.
#   bash tools/benchmark/mmdetection/dist_train.sh CONFIG GPUS PRETRAIN [train.py options...]
# PRETRAIN: the output of tools/model_converters/extract_backbone.py (an mmssl training
# checkpoint works too: only its backbone.* keys are read). It is set as the backbone's
# init_cfg.checkpoint and, for the C4 configs whose res5 stage sits in the RoI head, as the
# shared head's too; tools/benchmark/dist_train_pretrained.sh does the rest.
set -euo pipefail
CONFIG=${1:?usage: dist_train.sh CONFIG GPUS PRETRAIN [options]}
KEYS="model.backbone.init_cfg.checkpoint"
if grep -q "shared_head" "$CONFIG"; then
    KEYS+=" model.roi_head.shared_head.init_cfg.checkpoint"
fi
PRETRAIN_KEYS="$KEYS" exec bash "$(dirname "$0")/../dist_train_pretrained.sh" "$@"
