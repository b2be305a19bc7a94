"""Heads of masked image modeling: targets from the images, losses from losses/."""
from typing import Optional

from torch import Tensor, nn

from mmssl.models.losses.masked_modeling import (masked_cross_entropy, masked_l1, masked_mse,
                                                 normalized_pixel_targets)
from mmssl.models.utils.build import ModuleCfg, build_module
from mmssl.models.utils.patches import patchify
from mmssl.registry import MODELS


@MODELS.register_module()
class PixelReconstructionHead(nn.Module):
    """Pixel targets of the masked patches: MAE's normalised MSE, SimMIM's raw L1.

    Args:
        patch_size: the encoder's patch size p; predictions hold p * p * C values per
            patch, in :func:`patchify`'s order.
        loss: ``'mse'`` (:func:`masked_mse`) or ``'l1'`` (:func:`masked_l1`).
        norm_pix: normalise each target patch by its own mean and variance
            (:func:`normalized_pixel_targets`, MAE's ``norm_pix_loss``).
        loss_weight: a factor on the loss.
    """

    LOSSES = dict(mse=masked_mse, l1=masked_l1)

    def __init__(self, patch_size: int, loss: str = 'mse', norm_pix: bool = False,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if loss not in self.LOSSES:
            raise ValueError(f'loss must be one of {sorted(self.LOSSES)}, got {loss!r}')
        self.patch_size = patch_size
        self.loss_name = loss
        self.norm_pix = norm_pix
        self.loss_weight = loss_weight

    def targets(self, images: Tensor) -> Tensor:
        """(N, C, H, W) images (as the encoder sees them) -> (N, L, p * p * C) targets."""
        target = patchify(images, self.patch_size)
        return normalized_pixel_targets(target) if self.norm_pix else target

    def loss(self, pred: Tensor, images: Tensor, mask: Tensor) -> Tensor:
        """pred: (N, L, p * p * C); images: (N, C, H, W); mask: (N, L) bool, True where
        the loss counts. Returns a scalar."""
        return self.loss_weight * self.LOSSES[self.loss_name](pred, self.targets(images), mask)

    def extra_repr(self) -> str:
        return (f'patch_size={self.patch_size}, loss={self.loss_name!r}, '
                f'norm_pix={self.norm_pix}, loss_weight={self.loss_weight}')


@MODELS.register_module()
class TokenPredictionHead(nn.Module):
    """Visual-token targets of the masked patches: BEiT's cross-entropy on token ids.

    The ``tokenizer`` (:class:`KMeansTokenizer`, :class:`DALLETokenizer`) turns the
    images into one token id per patch; it is frozen (no gradient, always in eval
    mode). Predictions are logits over its vocabulary, either given (SplitMask's decoder
    with ``predict_feature_dim=vocab_size``) or made here from encoder tokens by a
    linear layer (BEiT: ``in_channels`` set).

    Args:
        tokenizer: the tokenizer config or module.
        vocab_size: its vocabulary size V.
        in_channels: if set, a linear layer C -> V is applied to the predictions first.
        loss_weight: a factor on the loss.
    """

    def __init__(self, tokenizer: ModuleCfg, vocab_size: int,
                 in_channels: Optional[int] = None, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.tokenizer = build_module(tokenizer)
        self.tokenizer.requires_grad_(False)
        self.vocab_size = vocab_size
        self.fc = nn.Linear(in_channels, vocab_size) if in_channels else None
        self.loss_weight = loss_weight

    def init_weights(self) -> None:
        """Initialise the tokenizer (loads its file): mmengine does not reach the children
        of a plain ``nn.Module``."""
        if hasattr(self.tokenizer, 'init_weights'):
            self.tokenizer.init_weights()

    def train(self, mode: bool = True) -> 'TokenPredictionHead':
        super().train(mode)
        self.tokenizer.eval()
        return self

    def logits(self, pred: Tensor) -> Tensor:
        """(N, L, C or V) -> (N, L, V)."""
        return self.fc(pred) if self.fc is not None else pred

    def loss(self, pred: Tensor, images: Tensor, mask: Tensor) -> Tensor:
        """pred: (N, L, C) encoder tokens or (N, L, V) logits; images: (N, C, H, W) as the
        encoder sees them; mask: (N, L) bool, True where the loss counts."""
        target_ids = self.tokenizer(images)
        return self.loss_weight * masked_cross_entropy(self.logits(pred), target_ids, mask)
