from typing import Sequence

import torch.nn as nn
from mmcv.cnn import ConvModule, build_norm_layer
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.model import BaseModule
from torch import Tensor


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of (N, C, H, W) maps (ViTDet's norm; mmdet has none)."""

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


if 'LN2d' not in MMDET_MODELS.module_dict:
    MMDET_MODELS.register_module('LN2d', module=LayerNorm2d)


@MMDET_MODELS.register_module()
class SimpleFeaturePyramid(BaseModule):
    """ViTDet's simple feature pyramid (Li et al. 2022): the pyramid a plain ViT gives a
    detector, built from its last feature map alone.

    The stride-16 map of a /16-patch ViT (N, C, H, W) becomes maps at strides 4, 8, 16
    and 32 by two 2x2 transposed convolutions (with a norm and GELU between them), one,
    none, and a 2x2 max-pool; each then gets a 1x1 and a 3x3 convolution with a norm to
    ``out_channels``. ``num_outs`` > 4 adds max-pooled levels on top (stride 64 for
    RPN's fifth anchor level).

    Args:
        in_channels: C of the ViT's feature map.
        out_channels: channels of every pyramid level.
        num_outs: number of levels returned (4 or more).
        norm_cfg: norm after the transposed conv and in the output convs.
    """

    def __init__(self, in_channels: int, out_channels: int = 256, num_outs: int = 5,
                 norm_cfg: dict = dict(type='LN2d', eps=1e-6),
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_outs < 4:
            raise ValueError(f'SimpleFeaturePyramid: num_outs must be >= 4, got {num_outs}')
        self.num_outs = num_outs
        c = in_channels
        self.scales = nn.ModuleList([
            nn.Sequential(nn.ConvTranspose2d(c, c // 2, 2, 2), build_norm_layer(norm_cfg,
                                                                                c // 2)[1],
                          nn.GELU(), nn.ConvTranspose2d(c // 2, c // 4, 2, 2)),
            nn.ConvTranspose2d(c, c // 2, 2, 2),
            nn.Identity(),
            nn.MaxPool2d(2, 2),
        ])
        self.outputs = nn.ModuleList([
            nn.Sequential(
                ConvModule(channels, out_channels, 1, norm_cfg=norm_cfg, act_cfg=None),
                ConvModule(out_channels, out_channels, 3, padding=1, norm_cfg=norm_cfg,
                           act_cfg=None))
            for channels in (c // 4, c // 2, c, c)])

    def forward(self, inputs: Sequence[Tensor]) -> tuple[Tensor, ...]:
        """inputs: the backbone's outputs, the last (N, C, H, W) at stride 16 is used."""
        x = inputs[-1]
        outs = [out(scale(x)) for scale, out in zip(self.scales, self.outputs)]
        while len(outs) < self.num_outs:
            outs.append(nn.functional.max_pool2d(outs[-1], 1, stride=2))
        return tuple(outs)
