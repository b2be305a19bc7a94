"""Heads that wrap the pure contrastive losses with their distributed bookkeeping."""
from typing import Optional

import torch
from torch import Tensor, nn

from mmssl.models.losses import in_batch_info_nce, info_nce, nt_xent, triplet_ranking
from mmssl.registry import MODELS
from mmssl.utils.dist import gather_with_grad, get_rank


def gather_in_batch_keys(positive: Tensor) -> tuple[Tensor, Tensor]:
    """The keys of the global batch (B, D), gathered from every rank with gradients, and
    the index in them of this rank's n positives (n,)."""
    n = positive.shape[0]
    positive_index = torch.arange(n, device=positive.device) + get_rank() * n
    return gather_with_grad(positive), positive_index


@MODELS.register_module()
class InfoNCEHead(nn.Module):
    """InfoNCE of queries against their positive keys and a set of negatives.

    The negatives are a queue (K, D), per-query samples (N, K, D), or, when none are
    given, the other keys of the global batch (end-to-end, MoCo v3): the keys are then
    gathered from every rank with :func:`gather_with_grad`, so gradients reach the key
    side too when it has any.

    Args:
        temperature: τ (0.07 for MoCo v1, 0.2 for MoCo v2).
        loss_weight: a factor on the loss (MoCo v3 uses 2τ).
    """

    def __init__(self, temperature: float, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.temperature = temperature
        self.loss_weight = loss_weight

    def loss(self, query: Tensor, positive: Tensor,
             negatives: Optional[Tensor] = None) -> Tensor:
        """query, positive: (n, D); negatives: (K, D), (n, K, D) or None; L2-normalised."""
        if negatives is not None:
            loss = info_nce(query, positive, negatives, self.temperature)
        else:
            keys, positive_index = gather_in_batch_keys(positive)
            loss = in_batch_info_nce(query, keys, positive_index, self.temperature)
        return self.loss_weight * loss

    def extra_repr(self) -> str:
        return f'temperature={self.temperature}, loss_weight={self.loss_weight}'


@MODELS.register_module()
class TripletRankingHead(nn.Module):
    """The ranking loss of :func:`triplet_ranking` behind :class:`InfoNCEHead`'s interface.

    A drop-in for :class:`InfoNCEHead` wherever positives and negatives are given: with
    :class:`MoCo` and ``InBatchKeys`` it is the exemplar task as Doersch & Zisserman (2017)
    train it (instance discrimination by a triplet loss over the batch); with explicit
    negatives it is transitive invariance's ranking loss. When no negatives are given, the
    negatives of a query are the other keys of the global batch (gathered with
    :func:`gather_with_grad`), its own positive excluded.

    Args:
        margin: the hinge margin on the cosine distance (0.5 in Wang & Gupta 2015).
        loss_weight: a factor on the loss.
    """

    def __init__(self, margin: float = 0.5, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.margin = margin
        self.loss_weight = loss_weight

    def loss(self, query: Tensor, positive: Tensor,
             negatives: Optional[Tensor] = None) -> Tensor:
        """query, positive: (n, D); negatives: (K, D), (n, K, D) or None; L2-normalised."""
        if negatives is not None:
            loss = triplet_ranking(query, positive, negatives, self.margin)
        else:
            keys, positive_index = gather_in_batch_keys(positive)
            valid = torch.ones(len(query), len(keys), dtype=torch.bool, device=query.device)
            valid[torch.arange(len(query), device=query.device), positive_index] = False
            loss = triplet_ranking(query, positive, keys, self.margin, valid)
        return self.loss_weight * loss

    def extra_repr(self) -> str:
        return f'margin={self.margin}, loss_weight={self.loss_weight}'


@MODELS.register_module()
class NTXentHead(nn.Module):
    """NT-Xent over the 2B views of the global batch (SimCLR).

    Each rank computes the loss of its own 2n views against all 2B views gathered from
    every rank with :func:`gather_with_grad`, whose backward returns to each rank the
    gradient that all ranks computed for its views. With DDP averaging the parameter
    gradients over ranks, training matches one process holding the whole batch.

    Args:
        temperature: τ (0.1 in SimCLR; 0.5 for small batches).
    """

    def __init__(self, temperature: float) -> None:
        super().__init__()
        self.temperature = temperature

    def loss(self, z_a: Tensor, z_b: Tensor) -> Tensor:
        """z_a, z_b: (n, D) L2-normalised projections of two views of this rank's images."""
        n = z_a.shape[0]
        all_a, all_b = gather_with_grad(z_a), gather_with_grad(z_b)
        total = all_a.shape[0]
        keys = torch.cat([all_a, all_b])  # (2B, D): view a of every image, then view b
        local = torch.arange(n, device=z_a.device) + get_rank() * n
        self_index = torch.cat([local, local + total])
        positive_index = torch.cat([local + total, local])
        query = torch.cat([z_a, z_b])
        return nt_xent(query, keys, positive_index, self_index, self.temperature)

    def extra_repr(self) -> str:
        return f'temperature={self.temperature}'
