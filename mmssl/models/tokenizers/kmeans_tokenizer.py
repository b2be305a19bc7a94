import os.path as osp
from typing import Optional

import torch
from torch import Tensor, nn

from mmssl.models.losses.masked_modeling import normalized_pixel_targets
from mmssl.models.utils.patches import patchify
from mmssl.registry import MODELS
from mmssl.utils.kmeans import nearest_centroid


@MODELS.register_module()
class KMeansTokenizer(nn.Module):
    """A visual tokenizer that mmssl trains itself: the nearest k-means centroid of each
    patch's pixels.

    BEiT's official tokenizer (DALL-E's dVAE, 8192 tokens) cannot be downloaded here;
    this one is built from the training data by ``tools/analysis/build_kmeans_tokenizer.py``
    (k-means over the patches of training views, as the encoder sees them) and saved as
    ``{'codebook': (V, p * p * C), 'meta': {...}}``. It has no trainable parameter; the
    codebook is a buffer, saved with the model.

    Args:
        patch_size: the encoder's patch size p (one token per patch).
        vocab_size: V, the number of centroids.
        norm_pix: cluster and assign patches normalised by their own mean and variance
            (then tokens describe texture/shape, not brightness).
        codebook: the file written by the tool, read by :meth:`init_weights` (the runner
            calls it before training; a missing file is an error there, so a config builds
            before the tool has run). Without it the codebook is zeros (every patch gets
            token 0) until a checkpoint or :meth:`set_codebook` fills it.
        in_channels: C.
    """

    def __init__(self, patch_size: int, vocab_size: int, norm_pix: bool = True,
                 codebook: Optional[str] = None, in_channels: int = 3) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.vocab_size = vocab_size
        self.norm_pix = norm_pix
        self.register_buffer('codebook',
                             torch.zeros(vocab_size, patch_size * patch_size * in_channels))
        self.codebook_file = codebook

    def init_weights(self) -> None:
        """Load the codebook file, if one is given."""
        if self.codebook_file is None:
            return
        if not osp.isfile(self.codebook_file):
            raise FileNotFoundError(
                f'KMeansTokenizer: no codebook at {self.codebook_file!r}; build it with '
                f'python tools/analysis/build_kmeans_tokenizer.py CONFIG --out '
                f'{self.codebook_file}')
        data = torch.load(self.codebook_file, map_location='cpu', weights_only=True)
        self.set_codebook(data['codebook'])

    def set_codebook(self, codebook: Tensor) -> None:
        """Replace the codebook, (V, p * p * C)."""
        if codebook.shape != self.codebook.shape:
            raise ValueError(f'codebook of shape {tuple(codebook.shape)}, expected '
                             f'{tuple(self.codebook.shape)} (vocab_size, p * p * C)')
        self.codebook.copy_(codebook)

    def patch_features(self, images: Tensor) -> Tensor:
        """(N, C, H, W) -> (N, L, p * p * C): the vectors that are clustered/assigned."""
        patches = patchify(images.float(), self.patch_size)
        return normalized_pixel_targets(patches) if self.norm_pix else patches

    @torch.no_grad()
    def forward(self, images: Tensor) -> Tensor:
        """(N, C, H, W) images as the encoder sees them -> (N, L) long token ids."""
        feats = self.patch_features(images)
        n, length, d = feats.shape
        return nearest_centroid(feats.reshape(-1, d), self.codebook).view(n, length)
