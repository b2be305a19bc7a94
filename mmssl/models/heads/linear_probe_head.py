"""The online linear probe: a classifier trained on detached features during pretraining."""
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmssl.registry import MODELS


@MODELS.register_module()
class LinearProbeHead(nn.Module):
    """A linear classifier of pooled backbone features, trained by cross-entropy.

    solo-learn's online linear evaluation: it follows the representation while it is
    being learned, at the cost of one (C x K) layer. The features are detached here, so
    its loss trains this layer only, never the backbone.

    Args:
        in_channels: C, the dimension of the pooled backbone feature.
        num_classes: K, the classes of the labels.
        loss_weight: a factor on its cross-entropy (it reaches only this layer, so it
            acts as a learning-rate factor of the probe).
    """

    def __init__(self, in_channels: int, num_classes: int, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.fc = nn.Linear(in_channels, num_classes)
        self.loss_weight = loss_weight

    def forward(self, feats: Tensor) -> Tensor:
        """(N, C) features -> (N, K) logits, with no gradient to ``feats``."""
        return self.fc(feats.detach())

    def loss(self, feats: Tensor, labels: Tensor) -> dict[str, Tensor]:
        """feats (N, C), labels (N,) -> ``loss_probe`` and ``acc_probe`` (top-1 in %)."""
        logits = self(feats)
        with torch.no_grad():
            accuracy = (logits.argmax(dim=1) == labels).float().mean() * 100
        return dict(loss_probe=self.loss_weight * F.cross_entropy(logits, labels),
                    acc_probe=accuracy)

    @torch.no_grad()
    def predict(self, feats: Tensor) -> Tensor:
        """(N, C) features -> (N, K) class probabilities."""
        return self(feats).softmax(dim=1)
