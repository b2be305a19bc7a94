import pytest
import torch
from mmpretrain.structures import DataSample

from mmssl.evaluation import ProbeAccuracy


def _sample(score, label, knn_bank=None):
    sample = DataSample().set_gt_label(label).set_pred_score(torch.tensor(score))
    if knn_bank is not None:
        sample.set_metainfo(dict(knn_bank=knn_bank))
    return sample.to_dict()


def test_topk_of_the_probe_scores():
    metric = ProbeAccuracy(topk=(1, 2))
    metric.process(None, [_sample([0.1, 0.7, 0.2], 1), _sample([0.5, 0.1, 0.4], 2),
                          _sample([0.2, 0.3, 0.5], 0)])
    got = metric.compute_metrics(metric.results)
    assert got['top1'] == pytest.approx(100 / 3)
    assert got['top2'] == pytest.approx(200 / 3)


def test_knn_bank_samples_are_left_out():
    """On a KNNDataset only the queries (the test split) are scored."""
    metric = ProbeAccuracy()
    metric.process(None, [_sample([0.9, 0.1], 1, knn_bank=True),   # wrong, but bank
                          _sample([0.9, 0.1], 0, knn_bank=False),
                          _sample([0.2, 0.8], 1, knn_bank=False)])
    assert len(metric.results) == 3  # kept for aligned distributed collection
    assert metric.evaluate(3) == {'probe/top1': 100.0}


def test_predictions_without_a_probe_are_named():
    sample = DataSample().set_gt_label(0)
    sample.set_field(torch.zeros(3), 'feat')
    with pytest.raises(KeyError, match='online_probe'):
        ProbeAccuracy().process(None, [sample.to_dict()])
