import torch
import torch.nn.functional as F
from torch import Tensor


@torch.no_grad()
def weighted_knn_scores(query: Tensor, bank: Tensor, bank_labels: Tensor, num_classes: int,
                        k: int = 20, temperature: float = 0.07,
                        chunk_size: int = 1024) -> Tensor:
    """Class scores of a weighted k-NN vote (Wu et al. 2018, NPID).

    Each query's k most similar bank features (cosine similarity s) vote for their
    label with weight ``exp(s / τ)``.

    Args:
        query: (Q, D) features; bank: (N, D) features; both L2-normalised here.
        bank_labels: (N,) int labels in ``[0, num_classes)``.
        k, temperature: the number of neighbours and τ.
        chunk_size: queries per similarity block, bounding memory to chunk_size x N.

    Returns:
        (Q, num_classes) summed vote weights.
    """
    if k > bank.shape[0]:
        raise ValueError(f'kNN with k={k} needs at least k bank samples, got {bank.shape[0]}')
    query, bank = F.normalize(query.float(), dim=1), F.normalize(bank.float(), dim=1)
    scores = []
    for start in range(0, query.shape[0], chunk_size):
        sim, idx = (query[start:start + chunk_size] @ bank.t()).topk(k, dim=1)
        weights = (sim / temperature).exp()
        votes = torch.zeros(sim.shape[0], num_classes, device=query.device)
        votes.scatter_add_(1, bank_labels[idx], weights)
        scores.append(votes)
    return torch.cat(scores)


def topk_accuracy(scores: Tensor, labels: Tensor, topk: tuple[int, ...] = (1, 5)) -> dict:
    """{'top1': %, 'top5': %, ...}: how often the label is among the k highest scores.

    scores: (Q, C) class scores; labels: (Q,) int labels in ``[0, C)``.
    """
    if max(topk) > scores.shape[1]:
        raise ValueError(f'top-{max(topk)} accuracy needs at least {max(topk)} classes, got '
                         f'{scores.shape[1]}; lower topk (now {tuple(topk)})')
    ranked = scores.topk(max(topk), dim=1).indices
    hits = ranked == labels[:, None]
    return {f'top{k}': hits[:, :k].any(dim=1).float().mean().item() * 100 for k in topk}
