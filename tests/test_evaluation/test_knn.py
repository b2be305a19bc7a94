import math
from unittest import mock

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample

from mmssl.evaluation import KNNAccuracy, topk_accuracy, weighted_knn_scores
from tests._dist import run_distributed


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


def _knn_samples(feats, labels, in_bank) -> list[dict]:
    """KNNDataset-like samples as the Evaluator hands them over: feat, gt_label, knn_bank."""
    samples = []
    for feat, label, bank in zip(feats, labels, in_bank):
        sample = DataSample().set_gt_label(int(label))
        sample.set_field(feat, 'feat')
        sample.set_metainfo(dict(knn_bank=bool(bank)))
        samples.append(sample.to_dict())
    return samples


def _knn_metric(feats, labels, in_bank, **kwargs) -> dict:
    metric = KNNAccuracy(**kwargs)
    metric.process(None, _knn_samples(feats, labels, in_bank))
    return metric.compute_metrics(metric.results)


def _clustered(cluster, seed=0):
    """(N, 3) features near the unit vector of each sample's cluster (0 or 1)."""
    gen = torch.Generator().manual_seed(seed)
    centers = torch.eye(3)[:2]
    return centers[torch.tensor(cluster)] + 0.05 * torch.randn(len(cluster), 3, generator=gen)


def test_swapping_bank_and_queries_changes_the_answer():
    """Bank: 3 images of cluster A labelled 0, 3 of cluster B labelled 1; queries: 3 of A
    labelled 0 and one of B labelled 0 (a wrong label): 3 of 4 right. With the roles
    swapped, the bank (label 0 only) gets the 3 images of B labelled 1 wrong: 3 of 6."""
    cluster = [0, 0, 0, 1, 1, 1, 0, 0, 0, 1]
    labels = [0, 0, 0, 1, 1, 1, 0, 0, 0, 0]
    in_bank = [True] * 6 + [False] * 4
    feats = _clustered(cluster)
    assert _knn_metric(feats, labels, in_bank, k=3, topk=(1,)) == {'top1': 75.0}
    swapped = [not bank for bank in in_bank]
    assert _knn_metric(feats, labels, swapped, k=3, topk=(1,)) == {'top1': 50.0}


def test_a_query_does_not_vote_for_itself():
    """k=1 and each query's label disagrees with its cluster's bank image: 0 % right. Had
    the queries leaked into the bank, each would find itself (cosine 1): 100 %."""
    feats = _clustered([0, 1, 0, 1])
    labels, in_bank = torch.tensor([0, 1, 1, 0]), torch.tensor([True, True, False, False])
    assert _knn_metric(feats, labels, in_bank, k=1, topk=(1,)) == {'top1': 0.0}
    leaky = weighted_knn_scores(feats[~in_bank], feats, labels, 2, k=1)
    assert topk_accuracy(leaky, labels[~in_bank], (1,)) == {'top1': 100.0}


@pytest.mark.parametrize('in_bank, counts', [([True] * 4, '4 bank and 0 query'),
                                             ([False] * 4, '0 bank and 4 query')])
def test_metric_needs_bank_and_query_samples(in_bank, counts):
    with pytest.raises(ValueError, match=f'needs both bank and query samples, got {counts}'):
        _knn_metric(_clustered([0, 1, 0, 1]), [0, 1, 0, 1], in_bank)
    with pytest.raises(ValueError, match='got 0 bank and 0 query'):  # nothing collected
        KNNAccuracy().compute_metrics([])


def test_metric_errors_name_what_is_missing_or_too_large():
    feats, labels = _clustered([0, 1, 0, 1, 1]), [0, 1, 0, 1, 1]
    in_bank = [True, True, True, False, False]
    with pytest.raises(ValueError, match='kNN with k=4 needs at least k bank samples, got 3'):
        _knn_metric(feats, labels, in_bank, k=4, topk=(1,))
    with pytest.raises(ValueError, match=r'top-5 accuracy needs at least 5 classes, got 2; '
                                         r'lower topk \(now \(1, 5\)\)'):
        _knn_metric(feats, labels, in_bank, k=2)  # the default topk=(1, 5)
    sample = _knn_samples(feats[:1], labels[:1], in_bank[:1])[0]
    del sample['feat']
    with pytest.raises(KeyError, match="'feat' .*'gt_label', got the keys"):
        KNNAccuracy().process(None, [sample])


# 3 classes, 21 images (8 in the bank) of overlapping clusters: an accuracy strictly between
# 0 and 100 %, which one missing or duplicated query would change.
NUM_SAMPLES = 21


def _overlapping_clusters():
    gen = torch.Generator().manual_seed(3)
    labels = torch.arange(NUM_SAMPLES) % 3
    feats = torch.eye(4)[labels] + 0.6 * torch.randn(NUM_SAMPLES, 4, generator=gen)
    in_bank = torch.zeros(NUM_SAMPLES, dtype=torch.bool)
    in_bank[torch.randperm(NUM_SAMPLES, generator=gen)[:8]] = True
    in_bank[0] = False  # the sample a padded shard repeats is a query
    return feats, labels, in_bank


def _knn_on_rank(rank: int, world_size: int) -> list:
    """The metric's result on each rank for two shardings of the samples as mmengine's
    DefaultSampler deals them (rank r: samples r, r + 2, ...): without padding (11 and 10
    samples) and padded to equal shards (rank 1 repeats sample 0)."""
    feats, labels, in_bank = _overlapping_clusters()
    shards = {'uneven': list(range(rank, NUM_SAMPLES, world_size)),
              'padded': list(range(rank, NUM_SAMPLES + 1, world_size))}
    results = []
    for kind in ('uneven', 'padded'):
        index = [i % NUM_SAMPLES for i in shards[kind]]
        metric = KNNAccuracy(k=3, topk=(1, 2))
        metric.process(None, _knn_samples(feats[index], labels[index], in_bank[index]))
        # the features stay sharded: mmengine's collect_results (to rank 0) is not called
        with mock.patch('mmengine.evaluator.metric.collect_results',
                        side_effect=AssertionError('KNNAccuracy gathered its results')):
            results.append(metric.evaluate(NUM_SAMPLES))
    return results


@pytest.mark.dist
def test_two_ranks_collect_their_shards_and_match_one_process():
    feats, labels, in_bank = _overlapping_clusters()
    single = KNNAccuracy(k=3, topk=(1, 2))
    single.process(None, _knn_samples(feats, labels, in_bank))
    expected = single.evaluate(NUM_SAMPLES)
    assert 0 < expected['knn/top1'] < 100
    # the answer needs both shards: rank 0's alone gives another one
    alone = _knn_metric(feats[::2], labels[::2], in_bank[::2], k=3, topk=(1, 2))
    assert alone['top1'] != expected['knn/top1']
    for rank_results in run_distributed(_knn_on_rank, 2):
        assert rank_results == [expected, expected]


def _float16_knn_data(seed=4):
    """(64, 8) bank with labels in [0, 4) and (9, 8) queries, random directions."""
    gen = torch.Generator().manual_seed(seed)
    bank, query = torch.randn(64, 8, generator=gen), torch.randn(9, 8, generator=gen)
    return query, bank, torch.randint(0, 4, (64,), generator=gen)


def test_float16_bank_matches_float32_within_tolerance():
    """A float16 bank of L2-normalised rows moves a cosine similarity by at most ~1e-3, a
    vote weight exp(s/0.07) by at most ~1.5 %: the same neighbours (no near-ties here)."""
    query, bank, labels = _float16_knn_data()
    expected = _brute_force_scores(query, bank, labels, 4, 40, 0.07)
    half = weighted_knn_scores(query, F.normalize(bank, dim=1).half(), labels, 4, k=40)
    assert half.dtype == torch.float32
    torch.testing.assert_close(half, expected, rtol=1.5e-2, atol=1e-3)
    assert torch.equal(half.argmax(dim=1), expected.argmax(dim=1))


def test_metric_keeps_float16_features_and_matches_float32_top1():
    """KNNAccuracy stores L2-normalised float16 features; on 10 noisy clusters its top-1
    (strictly between 0 and 100 %) equals the float32 vote's."""
    gen = torch.Generator().manual_seed(5)
    labels = torch.arange(300) % 10
    feats = 3 * torch.randn(10, 32, generator=gen)[labels] + 4 * torch.randn(300, 32, generator=gen)
    in_bank = torch.arange(300) < 200
    metric = KNNAccuracy(k=20, topk=(1,))
    metric.process(None, _knn_samples(feats, labels, in_bank))
    stored = metric.results[0][0]
    assert stored.dtype == torch.float16
    torch.testing.assert_close(stored.float().norm(dim=1), torch.ones(300), rtol=0, atol=1e-3)
    fp32 = topk_accuracy(weighted_knn_scores(feats[~in_bank], feats[in_bank], labels[in_bank],
                                             10, k=20), labels[~in_bank], (1,))
    assert 0 < fp32['top1'] < 100
    assert metric.compute_metrics(metric.results) == fp32


# Each rank's shard of the float16 bank (rank 1 holds fewer than k=40 rows, so its
# candidates are padded) and of the queries (rank 1 has none after the first block of
# chunk_size=4, i.e. 2 queries per rank).
SHARDS = {'bank': [slice(0, 58), slice(58, 64)], 'query': [slice(0, 7), slice(7, 9)]}


def _sharded_scores(rank: int, world_size: int):
    query, bank, labels = _float16_knn_data()
    bank = F.normalize(bank, dim=1).half()
    mine = SHARDS['bank'][rank]
    return weighted_knn_scores(query[SHARDS['query'][rank]], bank[mine], labels[mine], 4,
                               k=40, chunk_size=4)


@pytest.mark.dist
def test_two_ranks_sharded_bank_matches_one_process():
    """The top-k merged over two ranks' shards (2 gloo processes) equals the top-k of one
    process holding the whole bank: the scores of every query, ties aside."""
    query, bank, labels = _float16_knn_data()
    bank = F.normalize(bank, dim=1).half()
    expected = weighted_knn_scores(query, bank, labels, 4, k=40, chunk_size=4)
    # one shard alone gives other neighbours: the merge is what makes them equal
    alone = weighted_knn_scores(query, bank[SHARDS['bank'][0]], labels[SHARDS['bank'][0]], 4,
                                k=40)
    assert not torch.allclose(alone, expected, rtol=1e-2)
    got = torch.cat(run_distributed(_sharded_scores, 2))
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
