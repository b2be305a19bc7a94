from typing import Optional

from mmpretrain.structures import DataSample
from torch import Tensor

from mmssl.models.utils.mask_generators import kept_first_order, random_mask, random_mask_count
from mmssl.registry import MODELS
from .base import BaseSelfSupervisor, ModuleCfg


@MODELS.register_module()
class MAE(BaseSelfSupervisor):
    """MAE (He et al. 2021): encode the visible patches, decode all, regress the masked.

    A random ``mask_ratio`` of the patches is masked per image (:func:`random_mask`);
    the backbone (:class:`MaskedViT`) encodes only the kept ones, the neck
    (:class:`MIMDecoder`, a light transformer) adds mask tokens and predicts every
    patch, and the head (:class:`PixelReconstructionHead`, ``loss='mse'``,
    ``norm_pix=True``) scores the masked patches only.

    Args:
        mask_ratio: the fraction of patches masked (0.75).
        backbone, neck, head, **kwargs: as :class:`BaseSelfSupervisor`.
    """

    def __init__(self, backbone: ModuleCfg, neck: ModuleCfg, head: ModuleCfg,
                 mask_ratio: float = 0.75, **kwargs) -> None:
        super().__init__(backbone, neck, head, **kwargs)
        self.mask_ratio = mask_ratio

    def loss(self, inputs: list[Tensor],
             data_samples: Optional[list[DataSample]] = None) -> dict[str, Tensor]:
        """inputs: one view (N, C, H, W)."""
        images = self._single_view(inputs)
        num_patches = self.backbone.num_patches
        mask = random_mask(images.shape[0], num_patches, self.mask_ratio, device=images.device)
        # The kept count is known here: the backbone need not read it off the device.
        num_kept = num_patches - random_mask_count(num_patches, self.mask_ratio)
        latent = self.backbone(images, mask, num_kept)
        pred = self.neck(latent, kept_first_order(mask, num_kept)[1])
        return dict(loss=self.head.loss(pred, images, mask))
