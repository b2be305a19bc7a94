import math

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample

from mmssl.evaluation import KNNAccuracy, topk_accuracy, weighted_knn_scores


def _brute_force_scores(query, bank, labels, num_classes, k, tau):
    query, bank = F.normalize(query, dim=1), F.normalize(bank, dim=1)
    scores = torch.zeros(len(query), num_classes)
    for i, q in enumerate(query):
        sims = [(float(q @ b), int(y)) for b, y in zip(bank, labels)]
        for sim, label in sorted(sims, reverse=True)[:k]:
            scores[i, label] += math.exp(sim / tau)
    return scores


def test_weighted_vote_matches_the_npid_formula():
    gen = torch.Generator().manual_seed(0)
    bank, query = torch.randn(50, 8, generator=gen), torch.randn(7, 8, generator=gen)
    labels = torch.randint(0, 4, (50,), generator=gen)
    got = weighted_knn_scores(query, bank, labels, 4, k=5, temperature=0.07, chunk_size=3)
    expected = _brute_force_scores(query, bank, labels, 4, 5, 0.07)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-3)


def test_topk_accuracy():
    scores = torch.tensor([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1], [0.3, 0.3, 0.4]])
    acc = topk_accuracy(scores, torch.tensor([1, 2, 0]), topk=(1, 2))
    assert acc['top1'] == pytest.approx(100 / 3)
    assert acc['top2'] == pytest.approx(200 / 3)


def test_metric_separates_bank_and_queries():
    """Two clusters: every query is classified by its cluster's bank samples."""
    gen = torch.Generator().manual_seed(1)
    centers = torch.tensor([[5.0, 0, 0], [0, 5.0, 0]])
    metric = KNNAccuracy(k=3, topk=(1,))
    samples = []
    for i in range(40):
        label = i % 2
        sample = DataSample().set_gt_label(label)
        sample.set_field(centers[label] + torch.randn(3, generator=gen) * 0.3, 'feat')
        sample.set_metainfo(dict(knn_bank=i < 30))
        samples.append(sample.to_dict())
    metric.process(None, samples)
    assert metric.compute_metrics(metric.results) == {'top1': 100.0}


def test_metric_needs_knn_samples():
    sample = DataSample().set_gt_label(0)
    sample.set_field(torch.zeros(3), 'feat')
    with pytest.raises(KeyError, match='KNNDataset'):
        KNNAccuracy().process(None, [sample.to_dict()])
