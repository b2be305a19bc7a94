from typing import Optional

from mmpretrain.structures import DataSample
from torch import Tensor

from mmssl.models.utils.mask_generators import block_grid_mask
from mmssl.models.utils.patches import patchify
from mmssl.registry import MODELS
from .base import BaseSelfSupervisor, ModuleCfg


@MODELS.register_module()
class SimMIM(BaseSelfSupervisor):
    """SimMIM (Xie et al. 2021): mask token in the encoder, a linear head to raw pixels.

    Random ``mask_patch_size``-px blocks (32 in the paper) cover ``mask_ratio`` of the
    image (:func:`block_grid_mask`); the backbone (:class:`MaskedViT` with
    ``mask_token=True``) encodes all patches with the masked ones replaced by the mask
    token; the neck (mmpretrain's ``SimMIMLinearDecoder``: a 1x1 conv to p * p * 3 per
    patch and a pixel shuffle) maps the patch tokens back to an image, and the head
    (:class:`PixelReconstructionHead`, ``loss='l1'``) scores the masked patches only,
    against the input pixels as the encoder saw them (normalised).

    Args:
        mask_patch_size: the side of a mask block in pixels, a multiple of the patch size.
        mask_ratio: the fraction of blocks masked (0.6).
        backbone, neck, head, **kwargs: as :class:`BaseSelfSupervisor`.
    """

    def __init__(self, backbone: ModuleCfg, neck: ModuleCfg, head: ModuleCfg,
                 mask_patch_size: int = 32, mask_ratio: float = 0.6, **kwargs) -> None:
        super().__init__(backbone, neck, head, **kwargs)
        patch_size = self.backbone.patch_embed.projection.kernel_size[0]
        if mask_patch_size % patch_size:
            raise ValueError(f'mask_patch_size {mask_patch_size} is not a multiple of the '
                             f'patch size {patch_size}')
        self.patch_size = patch_size
        self.mask_block = mask_patch_size // patch_size
        self.mask_ratio = mask_ratio

    def loss(self, inputs: list[Tensor],
             data_samples: Optional[list[DataSample]] = None) -> dict[str, Tensor]:
        """inputs: one view (N, C, H, W)."""
        images = self._single_view(inputs)
        n = images.shape[0]
        grid = self.backbone.patch_resolution
        mask = block_grid_mask(n, grid, self.mask_block, self.mask_ratio, device=images.device)
        tokens = self.backbone(images, mask)[:, self.backbone.num_extra_tokens:]
        featmap = tokens.transpose(1, 2).reshape(n, -1, *grid)
        pred = patchify(self.neck(featmap), self.patch_size)
        return dict(loss=self.head.loss(pred, images, mask))
