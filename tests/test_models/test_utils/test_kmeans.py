import torch

from mmssl.models.utils.kmeans import kmeans, nearest_centroid


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
