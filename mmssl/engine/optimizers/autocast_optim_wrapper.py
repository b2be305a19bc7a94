from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper
from mmengine.runner.amp import autocast
from torch import nn

from mmssl.registry import OPTIM_WRAPPERS
from .skip_nonfinite import SkipNonFiniteMixin


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(SkipNonFiniteMixin, OptimWrapper):
    """mmengine's ``OptimWrapper`` whose forward runs under ``torch.autocast(dtype)``.

    For bfloat16, which needs no loss scaling. mmengine's ``AmpOptimWrapper`` always
    builds a ``GradScaler``, whose ``step`` reads ``found_inf`` on the host (one device
    sync per iteration) even when the dtype is bfloat16; this wrapper has no scaler and
    so no sync. Use ``AmpOptimWrapper`` for float16.

    Args:
        dtype: the autocast dtype, ``'bfloat16'`` (default) or a ``torch.dtype``.
        skip_nonfinite: skip a step whose loss or gradients are NaN/Inf instead of
            letting ``DeferredRuntimeInfoHook`` stop training (default False; costs one
            host read per step when on); with ``max_consecutive_skips`` and
            ``max_skipped_steps``, see :class:`SkipNonFiniteMixin`.
        Others: as ``OptimWrapper`` (optimizer, accumulative_counts, clip_grad).
    """

    def __init__(self, *args, dtype: str | torch.dtype = 'bfloat16', **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if isinstance(dtype, str):
            if not isinstance(getattr(torch, dtype, None), torch.dtype):
                raise ValueError(f'AutocastOptimWrapper: dtype {dtype!r} is not a torch dtype')
            dtype = getattr(torch, dtype)
        if dtype == torch.float16:
            raise ValueError('AutocastOptimWrapper: float16 needs loss scaling; use '
                             "type='AmpOptimWrapper', dtype='float16'")
        self.cast_dtype = dtype

    @contextmanager
    def optim_context(self, model: nn.Module):
        with super().optim_context(model), autocast(dtype=self.cast_dtype):
            yield
