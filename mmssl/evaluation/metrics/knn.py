from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric

from mmssl.evaluation.functional import topk_correct, weighted_knn_scores
from mmssl.registry import METRICS
from mmssl.utils.dist import concat_all_gather, get_rank, get_world_size


@METRICS.register_module()
class KNNAccuracy(BaseMetric):
    """Weighted k-NN accuracy of backbone features (NPID protocol: k=20 or 200, τ=0.07).

    Reads the ``feat`` the model's predict mode attaches to each data sample, its
    ``gt_label``, and ``knn_bank`` from its metainfo (set by :class:`KNNDataset`):
    bank samples vote, the others are classified. Reports ``knn/top1``, ``knn/top5``
    in percent.

    The features stay where the model computed them, L2-normalised in float16, and are
    never gathered: unlike ``BaseMetric.evaluate`` (which collects ``self.results`` on
    rank 0: 10 GB for ImageNet's 1.28 M x 2048 bank in float32), :meth:`evaluate` keeps
    each rank's samples as its shard of the bank and queries, and
    :func:`weighted_knn_scores` merges the ranks' top-k. Memory per rank falls with the
    number of ranks (docs/benchmarks.md, "kNN that scales").

    Args:
        k: neighbours that vote.
        temperature: τ of the vote weights ``exp(s/τ)``.
        topk: the accuracies to report.
        collect_device: unused (nothing is collected); kept for mmengine's signature.
        prefix: as mmengine's ``BaseMetric`` (defaults to 'knn').
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
        """data_samples: the model's outputs as dicts (mmengine's Evaluator converts them).

        Appends one (feats (B, D) float16 L2-normalised, labels (B,), in_bank (B,) bool)
        per batch to ``self.results``, on the features' device.
        """
        for sample in data_samples:
            if 'knn_bank' not in sample:
                raise KeyError('KNNAccuracy needs samples from a KNNDataset '
                               "(their metainfo has no 'knn_bank')")
            if 'feat' not in sample or 'gt_label' not in sample:
                raise KeyError(f"KNNAccuracy needs each sample's 'feat' (the model's predict "
                               f"mode sets it) and 'gt_label', got the keys {sorted(sample)}")
        feats = torch.stack([sample['feat'] for sample in data_samples])
        device = feats.device
        labels = torch.tensor([int(sample['gt_label']) for sample in data_samples], device=device)
        in_bank = torch.tensor([bool(sample['knn_bank']) for sample in data_samples],
                               device=device)
        self.results.append((F.normalize(feats.float(), dim=1).half(), labels, in_bank))

    def evaluate(self, size: int) -> dict:
        """The metrics over all ranks' samples, on every rank, without gathering them.

        ``size``: the dataset's length. As mmengine's ``collect_results``, it drops the
        samples that the sampler repeated to give every rank as many: with mmengine's
        ``DefaultSampler`` the i-th sample of rank r is the dataset's (i * world + r)-th,
        a repeat if that is ``size`` or more.
        """
        feats, labels, in_bank = _concat(self.results)
        keep = torch.arange(len(labels), device=labels.device) * get_world_size() + get_rank()
        keep = keep < size
        metrics = self.compute_metrics([(feats[keep], labels[keep], in_bank[keep])])
        self.results.clear()
        return {f'{self.prefix}/{name}': value for name, value in metrics.items()}

    def compute_metrics(self, results: list) -> dict:
        """{'top1': %, ...} of this rank's (feats, labels, in_bank) batches and the other
        ranks' (every rank calls it; one process: all the samples)."""
        feats, labels, in_bank = _concat(results)
        stats = torch.tensor([[int(in_bank.sum()), int((~in_bank).sum()),
                               int(labels.max()) + 1 if len(labels) else 0, feats.shape[1]]],
                             device=labels.device)
        stats = concat_all_gather(stats)  # (world, 4)
        num_bank, num_query = stats[:, :2].sum(dim=0).tolist()
        num_classes, dim = stats[:, 2:].max(dim=0).values.tolist()
        if num_bank == 0 or num_query == 0:
            raise ValueError(f'KNNAccuracy needs both bank and query samples, got {num_bank} '
                             f'bank and {num_query} query samples')
        feats = feats.reshape(-1, dim)  # a rank without samples: (0, dim)
        scores = weighted_knn_scores(feats[~in_bank], feats[in_bank], labels[in_bank],
                                     num_classes, self.k, self.temperature)
        hits = topk_correct(scores, labels[~in_bank], self.topk).sum(dim=0)
        hits = concat_all_gather(hits[None]).sum(dim=0)  # (len(topk),) over all ranks
        accuracy = (hits.float() / num_query).tolist()  # as topk_accuracy's float32 mean
        return {f'top{k}': value * 100 for k, value in zip(self.topk, accuracy)}


def _concat(results: list) -> tuple:
    """(feats (N, D), labels (N,), in_bank (N,)) of ``process``'s batches; N = 0 if none."""
    if not results:
        return (torch.zeros(0, 0, dtype=torch.half), torch.zeros(0, dtype=torch.long),
                torch.zeros(0, dtype=torch.bool))
    return tuple(torch.cat(parts) for parts in zip(*results))
