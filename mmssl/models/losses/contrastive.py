"""Contrastive losses as pure functions of tensors (docs/contributing.md, convention 5).

The InfoNCE family is the cross-entropy of similarity logits divided by a temperature,
with the positive as the target class; its members differ only in where the negatives
come from. :func:`triplet_ranking` is the margin (hinge) alternative on the same inputs.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor


def info_nce(query: Tensor, positive: Tensor, negatives: Tensor,
             temperature: float) -> Tensor:
    """InfoNCE over one positive per query and K negatives (MoCo, memory bank).

    ``L = -log( exp(q·k+/τ) / (exp(q·k+/τ) + Σ_i exp(q·k_i/τ)) )``, averaged over queries.

    Args:
        query, positive: (N, D), L2-normalised.
        negatives: (K, D) shared by all queries (a queue), or (N, K, D) one set per
            query (samples from a memory bank); L2-normalised.
        temperature: τ.

    Returns:
        Scalar mean loss; the logits are ``[q·k+, q·k_1..K] / τ`` with target 0.
    """
    pos = (query * positive).sum(dim=1, keepdim=True)
    if negatives.ndim == 3:
        neg = torch.einsum('nd,nkd->nk', query, negatives)
    else:
        neg = query @ negatives.t()
    logits = torch.cat([pos, neg], dim=1) / temperature
    target = torch.zeros(query.shape[0], dtype=torch.long, device=query.device)
    return F.cross_entropy(logits, target)


def in_batch_info_nce(query: Tensor, keys: Tensor, positive_index: Tensor,
                      temperature: float) -> Tensor:
    """InfoNCE whose negatives are the other keys of the batch (end-to-end, MoCo v3).

    ``L = -log( exp(q·k_j/τ) / Σ_k exp(q·k_k/τ) )`` with j the query's positive.

    Args:
        query: (M, D) L2-normalised.
        keys: (K, D) L2-normalised keys of the whole (global) batch, positives included.
        positive_index: (M,) the index in ``keys`` of each query's positive.
        temperature: τ.

    Returns:
        Scalar mean loss.
    """
    return F.cross_entropy(query @ keys.t() / temperature, positive_index)


def nt_xent(query: Tensor, keys: Tensor, positive_index: Tensor, self_index: Tensor,
            temperature: float) -> Tensor:
    """NT-Xent (SimCLR): :func:`in_batch_info_nce` with each query left out of its sum.

    ``ℓ(i, j) = -log( exp(s_ij/τ) / Σ_{k≠i} exp(s_ik/τ) )``, s the dot product of
    L2-normalised vectors (cosine), averaged over the queries.

    Args:
        query: (M, D) L2-normalised views whose loss this call computes.
        keys: (K, D) L2-normalised views of the whole (global) batch, queries included.
        positive_index: (M,) the index in ``keys`` of each query's positive j.
        self_index: (M,) the index in ``keys`` of each query itself, left out of the sum.
        temperature: τ.

    Returns:
        Scalar mean loss.
    """
    logits = query @ keys.t()
    rows = torch.arange(query.shape[0], device=query.device)
    logits = logits.index_put((rows, self_index), logits.new_full((), float('-inf')))
    return F.cross_entropy(logits / temperature, positive_index)


def triplet_ranking(query: Tensor, positive: Tensor, negatives: Tensor, margin: float,
                    valid: Optional[Tensor] = None) -> Tensor:
    """The ranking (triplet) loss with cosine distance (Wang & Gupta 2015; exemplar and
    transitive invariance).

    ``ℓ(q, p, n) = max(0, D(q, p) − D(q, n) + margin)`` with ``D(a, b) = 1 − a·b``, i.e.
    ``max(0, q·n − q·p + margin)``, averaged over every (query, negative) pair.

    Args:
        query, positive: (N, D), L2-normalised.
        negatives: (K, D) shared by all queries, or (N, K, D) one set per query;
            L2-normalised.
        margin: the margin (0.5 in Wang & Gupta; cosine distances lie in [0, 2]).
        valid: (N, K) bool, the pairs that count (e.g. in-batch keys other than the
            query's own positive); all when None.

    Returns:
        Scalar mean loss over the valid pairs.
    """
    pos = (query * positive).sum(dim=1, keepdim=True)  # (N, 1)
    if negatives.ndim == 3:
        neg = torch.einsum('nd,nkd->nk', query, negatives)
    else:
        neg = query @ negatives.t()
    hinge = (neg - pos + margin).clamp(min=0)  # (N, K)
    if valid is None:
        return hinge.mean()
    return (hinge * valid).sum() / valid.sum().clamp(min=1)
