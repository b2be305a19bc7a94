"""The lasso layer combination of multi-task self-supervision (Doersch & Zisserman 2017)."""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmssl.registry import MODELS


@MODELS.register_module()
class LassoCombination(nn.Module):
    """Per-task sparse mixtures of a trunk's block outputs: ``Σ_l α[t, l] · P_l(feat_l)``.

    Each of the L block outputs (N, C_l, H_l, W_l) is projected to one shape by P_l, a
    1 x 1 convolution to ``out_channels`` and an adaptive average pooling to
    ``out_size`` x ``out_size``; task t reads the α[t]-weighted sum. With an L1 penalty
    on α (:meth:`penalty`, weighted by the algorithm) each task picks a sparse set of
    layers.

    Args:
        in_channels: C_l of each block output, in the trunk's order.
        out_channels: the channels of the common shape.
        num_tasks: T, the rows of α.
        out_size: the spatial size of the common shape (1: pooled vectors).
        alpha_init: the initial value of every α (the paper's sparse selection starts
            from an even mixture; 1 / L by default).
        learn_alpha: α is trained (the lasso); ``False`` keeps it fixed at ``alpha_init``
            (a buffer): with one block output and ``alpha_init=1`` every task reads that
            block, the paper's plain shared-trunk baseline.
    """

    def __init__(self, in_channels: Sequence[int], out_channels: int, num_tasks: int,
                 out_size: int = 1, alpha_init: Optional[float] = None,
                 learn_alpha: bool = True) -> None:
        super().__init__()
        self.projections = nn.ModuleList(
            nn.Conv2d(c, out_channels, kernel_size=1) for c in in_channels)
        self.out_size = out_size
        init = 1.0 / len(in_channels) if alpha_init is None else alpha_init
        alpha = torch.full((num_tasks, len(in_channels)), float(init))
        if learn_alpha:
            self.alpha = nn.Parameter(alpha)
        else:
            self.register_buffer('alpha', alpha)

    def project(self, feats: Sequence[Tensor]) -> Tensor:
        """(L, N, C, s, s): every block output projected to the common shape."""
        if len(feats) != len(self.projections):
            raise ValueError(f'expected {len(self.projections)} block outputs (the '
                             f"backbone's out_indices), got {len(feats)}")
        return torch.stack([F.adaptive_avg_pool2d(proj(feat), self.out_size)
                            for proj, feat in zip(self.projections, feats)])

    def forward(self, feats: Sequence[Tensor], task: int) -> Tensor:
        """Task ``task``'s combination, (N, C) if ``out_size`` is 1 else (N, C, s, s)."""
        mixed = torch.einsum('l,lncij->ncij', self.alpha[task], self.project(feats))
        return mixed.flatten(1) if self.out_size == 1 else mixed

    def penalty(self) -> Tensor:
        """Σ_{t,l} |α[t, l]|, the lasso term."""
        return self.alpha.abs().sum()
