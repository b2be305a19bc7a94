from typing import Sequence

import torch
from torch import Tensor, nn

from mmssl.registry import MODELS


@MODELS.register_module()
class MLPNeck(nn.Module):
    """A projection MLP of any depth: pool, then (Linear-BN-ReLU) x (num_layers-1), Linear.

    Args:
        in_channels: C of the backbone's last feature map.
        hid_channels: width of the hidden layers.
        out_channels: D of the projection.
        num_layers: number of linear layers (>= 1).
        with_bn: batch-normalise the hidden layers.
    """

    def __init__(self, in_channels: int, hid_channels: int, out_channels: int,
                 num_layers: int = 3, with_bn: bool = True) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f'MLPNeck needs num_layers >= 1, got {num_layers}')
        layers: list[nn.Module] = []
        width = in_channels
        for _ in range(num_layers - 1):
            layers += [nn.Linear(width, hid_channels, bias=not with_bn)]
            layers += [nn.BatchNorm1d(hid_channels)] if with_bn else []
            layers += [nn.ReLU(inplace=True)]
            width = hid_channels
        layers.append(nn.Linear(width, out_channels))
        self.mlp = nn.Sequential(*layers)

    def forward(self, feats: Sequence[Tensor]) -> tuple[Tensor]:
        """feats: the backbone's outputs; the last (N, C, H, W) is pooled. Returns ((N, D),)."""
        x = torch.flatten(nn.functional.adaptive_avg_pool2d(feats[-1], 1), 1)
        return (self.mlp(x),)
