"""The cross-view prediction loss shared by SwAV and DINO, as a pure function."""
from typing import Sequence

import torch.nn.functional as F
from torch import Tensor


def cross_view_cross_entropy(targets: Sequence[Tensor], logits: Sequence[Tensor],
                             temperature: float) -> Tensor:
    """Each target view's distribution predicted from every other view.

    ``L = mean over pairs (i, v), v != i, of mean_n -sum_k targets[i][n, k] *
    log_softmax(logits[v][n] / temperature)[k]``: SwAV's swapped prediction (targets the
    Sinkhorn codes of the global views, logits the prototype scores of all views) and
    DINO's loss (targets the centred, sharpened teacher softmax of the global views,
    logits the student outputs of all views).

    Args:
        targets: T tensors (N, K), rows summing to 1, for views 0..T-1 (T <= V).
        logits: V tensors (N, K), the predictions of views 0..V-1.
        temperature: the prediction's softmax temperature.

    Returns:
        Scalar: the mean over the T * (V - 1) pairs.
    """
    if not 0 < len(targets) <= len(logits) or len(logits) < 2:
        raise ValueError(f'cross-view loss needs 1 <= targets <= views and 2+ views, got '
                         f'{len(targets)} targets and {len(logits)} views')
    log_probs = [F.log_softmax(view / temperature, dim=1) for view in logits]
    total, pairs = 0.0, 0
    for i, target in enumerate(targets):
        for v, log_prob in enumerate(log_probs):
            if v != i:
                total = total - (target * log_prob).sum(dim=1).mean()
                pairs += 1
    return total / pairs
