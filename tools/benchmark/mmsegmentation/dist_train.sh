#!/usr/bin/env bash
# Fine-tune an mmseg benchmark config from an mmssl-pretrained backbone, with torchrun.
#   bash tools/benchmark/mmsegmentation/dist_train.sh CONFIG GPUS PRETRAIN [train.py options...]
# PRETRAIN: the output of tools/model_converters/extract_backbone.py (an mmssl training
# checkpoint works too: only its backbone.* keys are read), set as the backbone's
# init_cfg.checkpoint (mmssl.PretrainedBackbone) by tools/benchmark/dist_train_pretrained.sh.
set -euo pipefail
PRETRAIN_KEYS="model.backbone.init_cfg.checkpoint" \
    exec bash "$(dirname "$0")/../dist_train_pretrained.sh" "$@"
