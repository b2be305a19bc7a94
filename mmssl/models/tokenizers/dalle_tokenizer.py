import os.path as osp
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmssl.registry import MODELS


@MODELS.register_module()
class DALLETokenizer(nn.Module):
    """BEiT's official tokenizer, DALL-E's dVAE encoder (8192 tokens), from a file.

    Wraps mmpretrain's ``DALL-E`` encoder, whose parameter names are DALL-E's own. The
    file is a state dict (plain, or under ``state_dict``): OpenMMLab's converted
    ``dalle_encoder.pth`` loads as is. DALL-E's released ``encoder.pkl`` is a pickled
    module, which mmssl does not unpickle (it names code); convert it once where the
    ``dall_e`` package is installed: ``torch.save(torch.load('encoder.pkl').state_dict(),
    'dalle_encoder.pth')``.

    The encoder's normalised input is de-normalised with ``mean``/``std`` (the data
    preprocessor's, 0-255 scale), mapped as DALL-E's ``map_pixels`` (eps 0.1), resized so
    that its 8x downsampling gives the encoder's patch grid (112 px for ViT-B/16 at 224,
    32 px for 4-px patches at 16), and each position's token is the argmax of the logits.

    Args:
        checkpoint: the state-dict file, read by :meth:`init_weights` (the runner calls
            it before training), so a config builds without the file.
        mean, std: the data preprocessor's normalisation.
        vocab_size: 8192 for DALL-E.
        encoder: more arguments of mmpretrain's ``DALL-E`` (e.g. a smaller ``n_hid``).
        patch_size: the ViT's patch size p: an (H, W) image gets an (H / p, W / p) grid.
    """

    def __init__(self, checkpoint: str,
                 mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375),
                 vocab_size: int = 8192, encoder: Optional[dict] = None,
                 patch_size: int = 16) -> None:
        super().__init__()
        self.encoder = MODELS.build(dict(type='DALL-E', vocab_size=vocab_size, **(encoder or {})))
        self.encoder.requires_grad_(False)
        self.checkpoint = checkpoint
        self.vocab_size = vocab_size
        self.patch_size = patch_size
        self.register_buffer('mean', torch.tensor(mean).view(1, -1, 1, 1), persistent=False)
        self.register_buffer('std', torch.tensor(std).view(1, -1, 1, 1), persistent=False)

    def init_weights(self) -> None:
        """Load the encoder's weights from ``checkpoint`` (the runner calls it first)."""
        if not osp.isfile(self.checkpoint):
            raise FileNotFoundError(
                f'DALLETokenizer: no DALL-E encoder state dict at {self.checkpoint!r} (see '
                f'the class docstring for converting encoder.pkl)')
        self.load_checkpoint(self.checkpoint)

    def load_checkpoint(self, path: str) -> None:
        """Load a DALL-E encoder state dict (plain, under ``state_dict``, or with an
        ``encoder.`` prefix); every key must match."""
        state = torch.load(path, map_location='cpu', weights_only=True)
        state = state.get('state_dict', state)
        state = {k.removeprefix('encoder.'): v for k, v in state.items()}
        missing, unexpected = self.encoder.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise ValueError(f'{path} is not a DALL-E encoder state dict: missing '
                             f'{missing[:5]}, unexpected {unexpected[:5]}')

    @torch.no_grad()
    def forward(self, images: Tensor, grid: Optional[tuple[int, int]] = None) -> Tensor:
        """(N, C, H, W) normalised images -> (N, h * w) long token ids on the grid (h, w)
        (default: H / patch_size, W / patch_size)."""
        h, w = grid or (images.shape[2] // self.patch_size, images.shape[3] // self.patch_size)
        x = (images.float() * self.std + self.mean) / 255.0
        x = F.interpolate(x, size=(8 * h, 8 * w), mode='bilinear', align_corners=False)
        x = (1 - 2 * 0.1) * x.clamp(0, 1) + 0.1
        return self.encoder(x).argmax(dim=1).flatten(1)
