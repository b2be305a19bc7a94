from typing import Optional

import torch
from mmpretrain.models import VisionTransformer
from mmpretrain.models.utils import build_2d_sincos_position_embedding, resize_pos_embed
from torch import Tensor, nn

from mmssl.models.utils.mask_generators import kept_first_order
from mmssl.registry import MODELS


@MODELS.register_module()
class MaskedViT(VisionTransformer):
    """mmpretrain's ``VisionTransformer`` that also encodes masked images.

    ``forward(x)`` is the plain ViT (its ``out_type``), for evaluation and transfer: the
    state dict is mmpretrain's, so a checkpoint loads into ``VisionTransformer`` as is.
    ``forward(x, mask)`` with a boolean patch mask (N, L), ``True`` = masked, returns the
    last layer's raw tokens (N, 1 + K, C), the class token first:

    - by default only the K kept patches are encoded (MAE, SplitMask): their patch
      embeddings plus position embeddings are gathered, in ascending patch order
      (:func:`kept_first_order`), no mask token enters the encoder, and every image
      must keep the same number of patches;
    - with ``mask_token=True`` (SimMIM, BEiT) all L patches are encoded, the embeddings
      of the masked ones replaced by a learnt mask token before the position embedding
      is added (K = L).

    Args:
        mask_token: replace masked patches by a learnt token instead of dropping them.
        sincos_pos_embed: initialise the position embedding as fixed 2-D sin-cos (MAE's
            encoder; not learnt). Otherwise it is learnt (truncated normal init).
        **kwargs: ``VisionTransformer``'s arguments (``arch``, ``img_size``,
            ``patch_size``, ``out_type``...); ``with_cls_token`` must stay True.
    """

    def __init__(self, mask_token: bool = False, sincos_pos_embed: bool = False,
                 **kwargs) -> None:
        if not kwargs.get('with_cls_token', True):
            raise ValueError('MaskedViT needs the class token (with_cls_token=True)')
        super().__init__(**kwargs)
        self.num_patches = self.patch_resolution[0] * self.patch_resolution[1]
        self.mask_token: Optional[nn.Parameter] = (
            nn.Parameter(torch.zeros(1, 1, self.embed_dims)) if mask_token else None)
        self.sincos_pos_embed = sincos_pos_embed
        if sincos_pos_embed:
            self.pos_embed.requires_grad = False

    def init_weights(self) -> None:
        super().init_weights()
        pretrained = isinstance(self.init_cfg, dict) and self.init_cfg['type'] == 'Pretrained'
        if pretrained:
            return
        if self.sincos_pos_embed:
            h, w = self.patch_resolution
            if h != w:
                raise ValueError(f'sin-cos position embedding needs a square patch grid, '
                                 f'got {self.patch_resolution}')
            pos = build_2d_sincos_position_embedding(h, self.embed_dims, cls_token=True)
            self.pos_embed.data.copy_(pos.float())
        nn.init.normal_(self.cls_token, std=0.02)
        if self.mask_token is not None:
            nn.init.normal_(self.mask_token, std=0.02)

    def forward(self, x: Tensor, mask: Optional[Tensor] = None, num_kept: Optional[int] = None):
        """x: (N, C, H, W) images; mask: (N, L) bool or None (see the class docstring).

        num_kept: the number of kept patches per image, when the caller knows it; else it
        is read from the mask (:func:`kept_first_order`).
        """
        if mask is None:
            return super().forward(x)
        n = x.shape[0]
        tokens, hw = self.patch_embed(x)
        if mask.shape != tokens.shape[:2]:
            raise ValueError(f'mask {tuple(mask.shape)} does not match the '
                             f'{tuple(tokens.shape[:2])} patches of the batch')
        pos = resize_pos_embed(self.pos_embed, self.patch_resolution, hw,
                               mode=self.interpolate_mode,
                               num_extra_tokens=self.num_extra_tokens)
        if self.mask_token is not None:
            w = mask.unsqueeze(-1).to(tokens.dtype)
            tokens = tokens * (1 - w) + self.mask_token.to(tokens.dtype) * w
            tokens = tokens + pos[:, 1:]
        else:
            tokens = tokens + pos[:, 1:]
            ids_keep, _ = kept_first_order(mask, num_kept)
            tokens = torch.gather(
                tokens, 1, ids_keep.unsqueeze(-1).expand(-1, -1, tokens.shape[-1]))
        cls = (self.cls_token + pos[:, :1]).expand(n, -1, -1)
        x = self.drop_after_pos(torch.cat([cls, tokens], dim=1))
        x = self.pre_norm(x)
        for layer in self.layers:
            x = layer(x)
        if self.final_norm:
            x = self.ln1(x)
        return x
