from typing import Optional

import torch.nn.functional as F
from mmpretrain.structures import DataSample
from torch import Tensor

from mmssl.models.utils.build import build_module
from mmssl.models.utils.mask_generators import kept_first_order, split_halves
from mmssl.registry import MODELS
from .base import BaseSelfSupervisor, ModuleCfg


@MODELS.register_module()
class SplitMask(BaseSelfSupervisor):
    """SplitMask (El-Nouby et al. 2021, arXiv 2112.10740): two halves predict each other.

    The patches of each image are split at random into disjoint halves A and B
    (:func:`split_halves`). The shared encoder (:class:`MaskedViT`, no mask tokens)
    encodes each half alone; the decoder (:class:`MIMDecoder`) takes one half's
    tokens plus mask tokens at the other half's positions and predicts the other
    half's targets, in both directions (the ``head``: :class:`PixelReconstructionHead`
    for pixel targets, or any head with ``loss(pred, images, mask)``). The decoder's
    hidden patch tokens of each branch, average-pooled and L2-normalised, give x_a and
    x_b, matched by InfoNCE over the (global) batch with ``contrastive_head``
    (:class:`InfoNCEHead`), symmetrised: ``(ctr(x_a, x_b) + ctr(x_b, x_a)) / 2``.

    Losses: ``loss_mim_ab`` (A predicts B), ``loss_mim_ba``, each times ``mim_weight``,
    and ``loss_contrastive`` times ``contrastive_weight``; the runner sums them.

    Args:
        contrastive_head: the InfoNCE head, e.g. ``dict(type='InfoNCEHead',
            temperature=0.2)``.
        mim_weight, contrastive_weight: the weights of the terms.
        backbone, neck, head, **kwargs: as :class:`BaseSelfSupervisor`.
    """

    def __init__(self, backbone: ModuleCfg, neck: ModuleCfg, head: ModuleCfg,
                 contrastive_head: ModuleCfg, mim_weight: float = 1.0,
                 contrastive_weight: float = 1.0, **kwargs) -> None:
        super().__init__(backbone, neck, head, **kwargs)
        self.contrastive_head = build_module(contrastive_head)
        self.mim_weight = mim_weight
        self.contrastive_weight = contrastive_weight

    def encode_decode(self, images: Tensor, observed: Tensor,
                      num_observed: int) -> tuple[Tensor, Tensor]:
        """Encode the ``observed`` patches (N, L) bool of ``images`` alone, decode all.

        ``num_observed`` is the number of observed patches of each image. Returns the
        decoder's predictions (N, L, D) and its pooled hidden tokens (N, C).
        """
        latent = self.backbone(images, ~observed, num_observed)
        pred, hidden = self.neck(latent, kept_first_order(~observed, num_observed)[1],
                                 return_hidden=True)
        return pred, hidden.mean(dim=1)

    def loss(self, inputs: list[Tensor],
             data_samples: Optional[list[DataSample]] = None) -> dict[str, Tensor]:
        """inputs: one view (N, C, H, W)."""
        images = self._single_view(inputs)
        num_patches = self.backbone.num_patches
        in_a = split_halves(images.shape[0], num_patches, device=images.device)
        pred_from_a, x_a = self.encode_decode(images, in_a, num_patches // 2)
        pred_from_b, x_b = self.encode_decode(images, ~in_a, num_patches - num_patches // 2)
        x_a, x_b = F.normalize(x_a, dim=1), F.normalize(x_b, dim=1)
        contrastive = 0.5 * (self.contrastive_head.loss(x_a, x_b)
                             + self.contrastive_head.loss(x_b, x_a))
        return dict(
            loss_mim_ab=self.mim_weight * self.head.loss(pred_from_a, images, ~in_a),
            loss_mim_ba=self.mim_weight * self.head.loss(pred_from_b, images, in_a),
            loss_contrastive=self.contrastive_weight * contrastive)
