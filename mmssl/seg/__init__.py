"""mmseg parts for fine-tuning mmssl backbones on semantic segmentation.

Load them from an mmseg config with
``custom_imports = dict(imports=['mmssl.seg'], allow_failed_imports=False)``; a backbone
then takes ``init_cfg=dict(type='mmssl.PretrainedBackbone', checkpoint=FILE)``.
"""
from .backbone_checkpoint import (BACKBONE_MAPPINGS, MappedState, PretrainedBackbone,
                                  backbone_state, load_backbone_checkpoint,
                                  map_backbone_state, map_resnet, map_vit_to_mae,
                                  map_vit_to_mmseg_vit)

__all__ = [
    'BACKBONE_MAPPINGS', 'MappedState', 'PretrainedBackbone', 'backbone_state',
    'load_backbone_checkpoint', 'map_backbone_state', 'map_resnet', 'map_vit_to_mae',
    'map_vit_to_mmseg_vit'
]
