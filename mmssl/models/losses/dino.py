"""DINO's self-distillation loss (Caron et al. 2021), as a pure function."""
from typing import Sequence

import torch.nn.functional as F
from torch import Tensor

from .cross_view import cross_view_cross_entropy


def dino_loss(student: Sequence[Tensor], teacher: Sequence[Tensor], center: Tensor,
              student_temperature: float, teacher_temperature: float) -> Tensor:
    """Cross-entropy between the centred, sharpened teacher and the student, across views.

    ``L = mean over (i, v), v != i, of mean_n -sum_k softmax((t_i - c) / tau_t)[k] *
    log_softmax(s_v / tau_s)[k]``.

    Args:
        student: V tensors (N, K), the student's outputs for all views (global first).
        teacher: G tensors (N, K), the teacher's outputs for the G global views; no
            gradient flows into them.
        center: (1, K) or (K,) the centre c.
        student_temperature: tau_s (0.1).
        teacher_temperature: tau_t (0.04 -> 0.07 over the warm-up).

    Returns:
        Scalar: the mean over the G * (V - 1) pairs.
    """
    targets = [F.softmax((t.detach() - center) / teacher_temperature, dim=1) for t in teacher]
    return cross_view_cross_entropy(targets, student, student_temperature)
