import pytest
import torch

from mmssl.utils.kmeans import kmeans, nearest_centroid


def test_kmeans_finds_separated_clusters():
    gen = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    x = (centres.repeat_interleave(50, 0) + 0.1 * torch.randn(150, 2, generator=gen))
    found = kmeans(x, 3, iters=10, generator=torch.Generator().manual_seed(1))
    # each true centre has a centroid within 0.1
    assert (torch.cdist(centres, found).min(1).values < 0.1).all()
    assign = nearest_centroid(x, found)
    assert len(set(assign.tolist())) == 3
    assert all(len(set(assign[i * 50:(i + 1) * 50].tolist())) == 1 for i in range(3))


def test_nearest_centroid_matches_cdist():
    gen = torch.Generator().manual_seed(0)
    x, c = torch.randn(40, 5, generator=gen), torch.randn(7, 5, generator=gen)
    assert torch.equal(nearest_centroid(x, c), torch.cdist(x, c).argmin(1))


def test_kmeans_plus_plus_finds_unequal_clusters_for_every_seed():
    """Clusters of 4, 4 and 3 rows (the miner's inter-edge test): k-means++ seeding finds
    them for each of 100 seeds (random rows as seeds miss them for 4: 33, 52, 67, 77)."""
    gen = torch.Generator().manual_seed(0)
    sizes = (4, 4, 3)
    x = torch.cat([torch.eye(8)[axis].repeat(n, 1) for axis, n in zip((0, 3, 6), sizes)])
    x = x + 0.05 * torch.randn(x.shape, generator=gen)
    truth = torch.arange(3).repeat_interleave(torch.tensor(sizes))
    for seed in range(100):
        centroids = kmeans(x, 3, generator=torch.Generator().manual_seed(seed), init='kmeans++')
        assign = nearest_centroid(x, centroids)
        pairs = set(zip(assign.tolist(), truth.tolist()))
        assert len(pairs) == len(set(assign.tolist())) == 3, seed  # a bijection


def test_kmeans_errors():
    x = torch.zeros(4, 2)
    with pytest.raises(ValueError, match='k=5 needs 1 <= k <= the 4 rows'):
        kmeans(x, 5)
    with pytest.raises(ValueError, match='k=0'):
        kmeans(x, 0)
    with pytest.raises(ValueError, match="init must be one of .*got 'kmeans'"):
        kmeans(x, 2, init='kmeans')
    # identical rows: k-means++ falls back to random rows, no division by zero
    assert torch.equal(kmeans(x, 2, init='kmeans++'), torch.zeros(2, 2))
