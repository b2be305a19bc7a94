"""Multi-crop forward passes (SwAV, DINO): one backbone pass per resolution.

Multi-crop training (Caron et al. 2020) gives each image a few global views (e.g.
2 x 224 px) and several smaller local views (e.g. 6 x 96 px). Views of different sizes
cannot share one batch, and one backbone pass per view wastes the batch parallelism: as
DINO's ``MultiCropWrapper`` does, the backbone runs once per run of consecutive views of
the same resolution, on those views concatenated along the batch, and the neck once on
all of them (so its BN, if any, sees every view together, as in the papers).
"""
from typing import Callable, Sequence, TypeVar

import torch
from torch import Tensor

Output = TypeVar('Output')


def resolution_runs(views: Sequence[Tensor]) -> list[tuple[int, int]]:
    """``[start, end)`` index ranges of the runs of consecutive views of one (H, W).

    views: V batches (N, C, H_v, W_v) of the same N images. E.g. sizes
    [224, 224, 96, 96, 96] give [(0, 2), (2, 5)].

    Raises:
        ValueError: if there are no views, or they hold different numbers of images.
    """
    if not views:
        raise ValueError('multi-crop forward needs at least one view')
    batch = views[0].shape[0]
    if any(view.ndim != 4 or view.shape[0] != batch for view in views):
        raise ValueError(f'multi-crop views must be (N, C, H, W) batches of the same N '
                         f'images, got shapes {[tuple(v.shape) for v in views]}')
    runs, start = [], 0
    for index in range(1, len(views) + 1):
        if index == len(views) or views[index].shape[2:] != views[start].shape[2:]:
            runs.append((start, index))
            start = index
    return runs


def forward_by_resolution(fn: Callable[[Tensor], Output],
                          views: Sequence[Tensor]) -> list[Output]:
    """``fn`` (a backbone) once per resolution run, on the run's views concatenated.

    Args:
        fn: maps a batch (M, C, H, W) to its output, e.g. the backbone's tuple of maps.
        views: V batches (N, C, H_v, W_v), in pipeline order (global views first).

    Returns:
        One output per run (see :func:`resolution_runs`), in view order; the output of
        the run ``[s, e)`` covers views s..e-1, view by view, N rows each. This is the
        input form of multi-crop necks such as mmpretrain's ``SwAVNeck`` and
        :class:`~mmssl.models.heads.DINONeck`, which pool and concatenate the runs into
        (V * N, D) rows ordered view by view.
    """
    return [fn(torch.cat(list(views[start:end])) if end - start > 1 else views[start])
            for start, end in resolution_runs(views)]
