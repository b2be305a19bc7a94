import torch
import torch.nn.functional as F
from torch import Tensor

from mmssl.utils.dist import concat_all_gather, get_rank, get_world_size

# bank rows per matmul: on the CPU each block is upcast to float32 on its own
BANK_BLOCK = 8192


@torch.no_grad()
def weighted_knn_scores(query: Tensor, bank: Tensor, bank_labels: Tensor, num_classes: int,
                        k: int = 20, temperature: float = 0.07,
                        chunk_size: int = 1024) -> Tensor:
    """Class scores of a weighted k-NN vote (Wu et al. 2018, NPID).

    Each query's k most similar bank features (cosine similarity s) vote for their
    label with weight ``exp(s / τ)``.

    With several ranks (an initialised process group), every rank must call it with its
    own queries and its own shard of the bank: the bank is the union of the shards and
    each rank gets the scores of its own queries. Per block of ``chunk_size`` queries (over
    all ranks) the queries are all-gathered, each rank takes the top-k of its shard, and
    the candidates (world x k per query) are all-gathered and merged into the top-k. The
    result equals one process holding the whole bank, ties aside. One rank holds its shard
    plus chunk_size x N / world similarities (docs/benchmarks.md, "kNN that scales").

    The bank is kept in its dtype (float16 halves its memory): on a GPU the similarities
    are computed in it, on the CPU in float32, ``BANK_BLOCK`` bank rows at a time.

    Args:
        query: (Q, D) features; bank: (N, D) features; both L2-normalised here.
        bank_labels: (N,) int labels in ``[0, num_classes)``, on the bank's device.
        k, temperature: the number of neighbours and τ.
        chunk_size: queries per similarity block (over all ranks), bounding a rank's
            similarities to chunk_size x N / world.

    Returns:
        (Q, num_classes) float32 summed vote weights, on the bank's device.
    """
    world, rank = get_world_size(), get_rank()
    counts = concat_all_gather(torch.tensor([[bank.shape[0], query.shape[0]]],
                                            device=bank.device))  # (world, 2)
    num_bank, max_query = int(counts[:, 0].sum()), int(counts[:, 1].max())
    if k > num_bank:
        raise ValueError(f'kNN with k={k} needs at least k bank samples, got {num_bank}')
    query = F.normalize(query.float(), dim=1).to(bank.device)
    step = -(-chunk_size // world)  # each rank's queries per block
    scores = []
    for start in range(0, max_query, step):
        rows = min(step, max_query - start)  # the same on every rank
        mine = query[start:start + rows]
        queries = concat_all_gather(F.pad(mine, (0, 0, 0, rows - len(mine))))  # (W*rows, D)
        sim, labels = _shard_topk(queries, bank, bank_labels, k)  # (W*rows, k) each
        # every rank's candidates for this rank's queries: (W, W*rows, k) -> (len(mine), W*k)
        sim, labels = (concat_all_gather(t).view(world, world, rows, k)[:, rank, :len(mine)]
                       .transpose(0, 1).reshape(len(mine), world * k) for t in (sim, labels))
        sim, idx = sim.topk(k, dim=1)
        votes = torch.zeros(len(mine), num_classes, device=bank.device)
        scores.append(votes.scatter_add_(1, labels.gather(1, idx), (sim / temperature).exp()))
    return torch.cat(scores) if scores else torch.zeros(0, num_classes, device=bank.device)


def _shard_topk(query: Tensor, bank: Tensor, bank_labels: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """Top-k cosine similarities (M, k) float32 of L2-normalised ``query`` (M, D) in ``bank``
    (n, D), with their labels (M, k); padded with -inf (label 0) where n < k."""
    dtype = bank.dtype if bank.is_cuda else torch.float32
    query = query.to(dtype)
    sim = torch.empty(len(query), len(bank), dtype=dtype, device=bank.device)
    for start in range(0, len(bank), BANK_BLOCK):
        block = bank[start:start + BANK_BLOCK]
        norms = torch.linalg.vector_norm(block, dim=1, dtype=torch.float32).clamp_min(1e-12)
        sim[:, start:start + BANK_BLOCK] = (query @ block.to(dtype).t()) / norms
    sim, idx = sim.topk(min(k, len(bank)), dim=1)
    pad = k - sim.shape[1]
    return (F.pad(sim.float(), (0, pad), value=float('-inf')),
            F.pad(bank_labels[idx], (0, pad)))


def topk_correct(scores: Tensor, labels: Tensor, topk: tuple[int, ...] = (1, 5)) -> Tensor:
    """(Q, len(topk)) bool: whether each label is among the k highest of its scores, per k.

    scores: (Q, C) class scores; labels: (Q,) int labels in ``[0, C)``.
    """
    if max(topk) > scores.shape[1]:
        raise ValueError(f'top-{max(topk)} accuracy needs at least {max(topk)} classes, got '
                         f'{scores.shape[1]}; lower topk (now {tuple(topk)})')
    hits = scores.topk(max(topk), dim=1).indices == labels[:, None]
    return torch.stack([hits[:, :k].any(dim=1) for k in topk], dim=1)


def topk_accuracy(scores: Tensor, labels: Tensor, topk: tuple[int, ...] = (1, 5)) -> dict:
    """{'top1': %, 'top5': %, ...}: how often the label is among the k highest scores.

    scores: (Q, C) class scores; labels: (Q,) int labels in ``[0, C)``.
    """
    correct = topk_correct(scores, labels, topk).float().mean(dim=0).tolist()
    return {f'top{k}': value * 100 for k, value in zip(topk, correct)}
