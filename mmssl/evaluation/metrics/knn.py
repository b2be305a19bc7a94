from typing import Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric

from mmssl.evaluation.functional import topk_accuracy, weighted_knn_scores
from mmssl.registry import METRICS


@METRICS.register_module()
class KNNAccuracy(BaseMetric):
    """Weighted k-NN accuracy of backbone features (NPID protocol: k=20 or 200, τ=0.07).

    Reads the ``feat`` the model's predict mode attaches to each data sample, its
    ``gt_label``, and ``knn_bank`` from its metainfo (set by :class:`KNNDataset`):
    bank samples vote, the others are classified. Reports ``knn/top1``, ``knn/top5``
    in percent.

    Args:
        k: neighbours that vote.
        temperature: τ of the vote weights ``exp(s/τ)``.
        topk: the accuracies to report.
        collect_device, prefix: as mmengine's ``BaseMetric`` (prefix defaults to 'knn').
    """

    default_prefix = 'knn'

    def __init__(self,
                 k: int = 20,
                 temperature: float = 0.07,
                 topk: Sequence[int] = (1, 5),
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.k, self.temperature, self.topk = k, temperature, tuple(topk)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """data_samples: the model's outputs as dicts (mmengine's Evaluator converts them)."""
        for sample in data_samples:
            if 'knn_bank' not in sample:
                raise KeyError('KNNAccuracy needs samples from a KNNDataset '
                               "(their metainfo has no 'knn_bank')")
            if 'feat' not in sample or 'gt_label' not in sample:
                raise KeyError(f"KNNAccuracy needs each sample's 'feat' (the model's predict "
                               f"mode sets it) and 'gt_label', got the keys {sorted(sample)}")
        feats = torch.stack([sample['feat'] for sample in data_samples]).float().cpu()
        for sample, feat in zip(data_samples, feats):
            self.results.append((feat, int(sample['gt_label']), bool(sample['knn_bank'])))

    def compute_metrics(self, results: list) -> dict:
        in_bank = torch.tensor([r[2] for r in results], dtype=torch.bool)
        num_bank = int(in_bank.sum())
        if num_bank == 0 or num_bank == len(results):
            raise ValueError(f'KNNAccuracy needs both bank and query samples, got {num_bank} '
                             f'bank and {len(results) - num_bank} query samples')
        feats = torch.stack([r[0] for r in results])
        labels = torch.tensor([r[1] for r in results])
        bank_labels = labels[in_bank]
        num_classes = int(labels.max()) + 1
        scores = weighted_knn_scores(feats[~in_bank], feats[in_bank], bank_labels,
                                     num_classes, self.k, self.temperature)
        return topk_accuracy(scores, labels[~in_bank], self.topk)
