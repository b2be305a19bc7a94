from .build import ModuleCfg, build_module
from .ema import cosine_momentum, ema_update_
from .multi_crop import forward_by_resolution, resolution_runs
from .shuffle_bn import forward_in_splits, forward_shuffled

__all__ = ['ModuleCfg', 'build_module', 'cosine_momentum', 'ema_update_', 'forward_in_splits',
           'forward_shuffled', 'forward_by_resolution', 'resolution_runs']
