from typing import Optional

from mmpretrain.structures import DataSample
from torch import Tensor

from mmssl.models.utils.mask_generators import blockwise_mask
from mmssl.registry import MODELS
from .base import BaseSelfSupervisor, ModuleCfg


@MODELS.register_module()
class BEiT(BaseSelfSupervisor):
    """BEiT (Bao et al. 2021): predict the visual tokens of blockwise-masked patches.

    ``num_masked`` patches per image are masked in rectangular blocks of at least
    ``min_block`` patches (:func:`blockwise_mask`, 75 of 196 in the paper); the backbone
    (:class:`MaskedViT` with ``mask_token=True``) encodes all patches with the masked
    ones replaced by the mask token, and the head (:class:`TokenPredictionHead` with
    ``in_channels`` set) predicts each masked patch's token id from its tokenizer,
    cross-entropy on the masked patches only.

    Args:
        num_masked: patches masked per image.
        min_block: the smallest block, in patches (16 in the paper).
        backbone, head, neck, **kwargs: as :class:`BaseSelfSupervisor`.
    """

    def __init__(self, backbone: ModuleCfg, head: ModuleCfg, num_masked: int = 75,
                 min_block: int = 16, neck: Optional[ModuleCfg] = None, **kwargs) -> None:
        super().__init__(backbone, neck, head, **kwargs)
        self.num_masked = num_masked
        self.min_block = min_block

    def loss(self, inputs: list[Tensor],
             data_samples: Optional[list[DataSample]] = None) -> dict[str, Tensor]:
        """inputs: one view (N, C, H, W)."""
        images = self._single_view(inputs)
        mask = blockwise_mask(images.shape[0], self.backbone.patch_resolution, self.num_masked,
                              min_block=self.min_block, device=images.device)
        tokens = self.backbone(images, mask)[:, self.backbone.num_extra_tokens:]
        return dict(loss=self.head.loss(tokens, images, mask))
