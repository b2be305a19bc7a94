"""DINO's projection head (the EMA'd neck) and its loss head with the teacher centre."""
import math
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.dist import all_reduce
from torch import Tensor, nn

from mmssl.models.losses import dino_loss
from mmssl.registry import MODELS
from mmssl.utils.dist import get_world_size


class NormalizedLinear(nn.Module):
    """A linear layer without bias whose rows are ``g * v / ||v||`` (weight normalisation).

    Args:
        in_features, out_features: D and K.
        learn_norm: learn the per-row norm g (K, 1); else g stays 1 (DINO's
            ``norm_last_layer=True``), so that the layer only has directions to learn.
    """

    def __init__(self, in_features: int, out_features: int, learn_norm: bool = False) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # nn.Linear's initialisation
        self.norm = nn.Parameter(torch.ones(out_features, 1), requires_grad=learn_norm)

    def forward(self, x: Tensor) -> Tensor:
        """(N, D) -> (N, K)."""
        return F.linear(x, self.norm * F.normalize(self.weight, dim=1))


@MODELS.register_module()
class DINONeck(nn.Module):
    """DINO's projection head: MLP, L2 normalisation, weight-normalised linear layer to K.

    ``in -> hidden -GELU-> hidden -GELU-> bottleneck`` (``num_layers`` linear layers, with
    a norm after each hidden one if ``norm_cfg``: DINO's ``use_bn_in_head``), then L2
    normalisation and :class:`NormalizedLinear` to K. Linear layers are initialised with
    a truncated normal (std 0.02) and zero bias, as in the paper's code.

    It takes the multi-crop form of mmpretrain's ``SwAVNeck``: the list of backbone
    outputs per resolution run from
    :func:`~mmssl.models.utils.multi_crop.forward_by_resolution`; the last output of each
    run is average-pooled if it is a map (N, C, H, W) (ResNet), used as it is if it is a
    vector (N, C) (the class token of a ViT), and the runs are concatenated.

    Args:
        in_channels: C of the backbone's last output.
        hidden_channels: the MLP's width (2048).
        bottleneck_channels: the MLP's output, before L2 normalisation (256).
        out_channels: K (65536).
        num_layers: linear layers of the MLP (3).
        norm_cfg: a norm after each hidden linear layer, e.g. ``dict(type='BN1d')``.
        norm_last_layer: keep the last layer's row norms at 1 (the paper's default).
    """

    def __init__(self,
                 in_channels: int,
                 hidden_channels: int = 2048,
                 bottleneck_channels: int = 256,
                 out_channels: int = 65536,
                 num_layers: int = 3,
                 norm_cfg: Optional[dict] = None,
                 norm_last_layer: bool = True) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f'DINONeck needs num_layers >= 1, got {num_layers}')
        widths = [in_channels] + [hidden_channels] * (num_layers - 1) + [bottleneck_channels]
        layers: list[nn.Module] = []
        for index in range(num_layers):
            layers.append(nn.Linear(widths[index], widths[index + 1]))
            if index < num_layers - 1:
                if norm_cfg is not None:
                    layers.append(build_norm_layer(norm_cfg, widths[index + 1])[1])
                layers.append(nn.GELU())
        self.mlp = nn.Sequential(*layers)
        for layer in self.mlp:
            if isinstance(layer, nn.Linear):
                nn.init.trunc_normal_(layer.weight, std=0.02)
                nn.init.zeros_(layer.bias)
        self.last_layer = NormalizedLinear(bottleneck_channels, out_channels,
                                           learn_norm=not norm_last_layer)

    def forward(self, runs: Sequence[Sequence[Tensor]]) -> Tensor:
        """Backbone outputs of R resolution runs -> (sum of their rows, K)."""
        feats = []
        for outputs in runs:
            feat = outputs[-1]
            if feat.ndim == 4:
                feat = feat.mean(dim=(2, 3))
            elif feat.ndim != 2:
                raise ValueError(f'DINONeck takes (N, C, H, W) maps or (N, C) vectors, got '
                                 f'{tuple(feat.shape)}')
            feats.append(feat)
        x = F.normalize(self.mlp(torch.cat(feats)), dim=1)
        return self.last_layer(x)


@MODELS.register_module()
class DINOHead(nn.Module):
    """DINO's loss: the student predicts the centred, sharpened teacher across views.

    Holds the centre c (1, K), a buffer (saved in checkpoints), updated after each loss
    as ``c = m * c + (1 - m) * mean of the teacher outputs`` over the global batch
    (summed across ranks), m = ``center_momentum``.

    Args:
        out_channels: K, the output dimension of :class:`DINONeck`.
        student_temperature: tau_s (0.1).
        center_momentum: m (0.9).
    """

    def __init__(self, out_channels: int, student_temperature: float = 0.1,
                 center_momentum: float = 0.9) -> None:
        super().__init__()
        self.student_temperature = student_temperature
        self.center_momentum = center_momentum
        self.register_buffer('center', torch.zeros(1, out_channels))

    def loss(self, student: Sequence[Tensor], teacher: Sequence[Tensor],
             teacher_temperature: float) -> Tensor:
        """student: V tensors (N, K), all views; teacher: G tensors (N, K), global views.

        Returns the loss against the current centre, then updates the centre.
        """
        loss = dino_loss(student, teacher, self.center, self.student_temperature,
                         teacher_temperature)
        self.update_center(torch.cat(list(teacher)))
        return loss

    @torch.no_grad()
    def update_center(self, teacher: Tensor) -> None:
        """EMA of the centre towards the mean row of ``teacher`` (n, K) over all ranks."""
        batch_sum = teacher.float().sum(dim=0, keepdim=True)
        all_reduce(batch_sum)
        batch_mean = batch_sum / (teacher.shape[0] * get_world_size())
        self.center.mul_(self.center_momentum).add_(batch_mean, alpha=1 - self.center_momentum)

    def extra_repr(self) -> str:
        return (f'student_temperature={self.student_temperature}, '
                f'center_momentum={self.center_momentum}')
