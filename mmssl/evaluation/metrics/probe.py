from typing import Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric

from mmssl.evaluation.functional import topk_accuracy
from mmssl.registry import METRICS


@METRICS.register_module()
class ProbeAccuracy(BaseMetric):
    """Top-k accuracy of the online linear probe: reports ``probe/top1`` in percent.

    Reads the ``pred_score`` that the model's predict mode attaches to each data sample
    when it has an online probe, and its ``gt_label``. On a :class:`KNNDataset` the bank
    samples (the training split, ``knn_bank`` True) are left out and the queries scored,
    so the number sits beside ``knn/top1`` on the same images; without ``knn_bank``
    every sample is scored.

    Args:
        topk: the accuracies to report.
        collect_device, prefix: as mmengine's ``BaseMetric`` (prefix defaults to 'probe').
    """

    default_prefix = 'probe'

    def __init__(self,
                 topk: Sequence[int] = (1,),
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.topk = tuple(topk)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """data_samples: the model's outputs as dicts (mmengine's Evaluator converts them)."""
        for sample in data_samples:
            if 'pred_score' not in sample:
                raise KeyError("ProbeAccuracy needs the online probe's pred_score in the "
                               'predictions; build the model with online_probe=dict(...)')
            # Every sample is kept (bank ones flagged), so that distributed collection,
            # which interleaves the ranks' results, stays aligned.
            self.results.append((sample['pred_score'].float().cpu(), int(sample['gt_label']),
                                 bool(sample.get('knn_bank', False))))

    def compute_metrics(self, results: list) -> dict:
        scored = [r for r in results if not r[2]]
        if not scored:
            raise ValueError('ProbeAccuracy found no sample to score (all are kNN bank samples)')
        scores = torch.stack([r[0] for r in scored])
        labels = torch.tensor([r[1] for r in scored])
        return topk_accuracy(scores, labels, self.topk)
