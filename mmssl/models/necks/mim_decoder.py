from typing import Union

import torch
from mmpretrain.models.necks import MAEPretrainDecoder
from torch import Tensor

from mmssl.registry import MODELS


@MODELS.register_module()
class MIMDecoder(MAEPretrainDecoder):
    """mmpretrain's ``MAEPretrainDecoder`` (MAE's light decoder) that can also return
    its hidden tokens.

    The encoder's tokens (N, 1 + K, C_enc), class token first, are embedded to the
    decoder width, mask tokens are appended for the L - K missing patches, all are put
    back in patch order with ``ids_restore`` (see :func:`kept_first_order`), fixed 2-D
    sin-cos position embeddings are added, then ``decoder_depth`` transformer layers, a
    norm and a linear prediction per patch. Arguments as ``MAEPretrainDecoder``
    (``num_patches``, ``patch_size``, ``in_chans``, ``embed_dim``, ``decoder_embed_dim``,
    ``decoder_depth``, ``decoder_num_heads``, ``predict_feature_dim``...).
    """

    def forward(self, x: Tensor, ids_restore: Tensor,
                return_hidden: bool = False) -> Union[Tensor, tuple[Tensor, Tensor]]:
        """x: (N, 1 + K, C_enc); ids_restore: (N, L).

        Returns:
            The predictions (N, L, D) for every patch and, with ``return_hidden``, the
            normed hidden patch tokens (N, L, decoder_embed_dim) they are made from.
        """
        x = self.decoder_embed(x)
        n, length = x.shape[0], ids_restore.shape[1]
        mask_tokens = self.mask_token.to(x.dtype).expand(n, length + 1 - x.shape[1], -1)
        patches = torch.cat([x[:, 1:], mask_tokens], dim=1)
        patches = torch.gather(
            patches, 1, ids_restore.unsqueeze(-1).expand(-1, -1, x.shape[2]))
        x = torch.cat([x[:, :1], patches], dim=1) + self.decoder_pos_embed
        for block in self.decoder_blocks:
            x = block(x)
        hidden = self.decoder_norm(x)[:, 1:]
        pred = self.decoder_pred(hidden)
        return (pred, hidden) if return_hidden else pred
