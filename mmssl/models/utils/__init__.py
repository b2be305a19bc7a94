from .build import ModuleCfg, build_module
from .ema import cosine_momentum, ema_update_
from .lasso import LassoCombination
from .mask_generators import (block_grid_mask, blockwise_mask, exact_random_mask,
                              kept_first_order, random_mask, random_mask_count, split_halves)
from .multi_crop import forward_by_resolution, resolution_runs
from .patches import patchify, unpatchify
from .progress import TrainingProgress, delayed_warmup_factor
from .shuffle_bn import (DEFAULT_BN_SPLITS, SplitBatchNorm1d, SplitBatchNorm2d, convert_split_bn,
                         forward_in_splits, forward_shuffled, key_permutation)

__all__ = ['ModuleCfg', 'build_module', 'cosine_momentum', 'ema_update_', 'forward_in_splits',
           'forward_shuffled', 'forward_by_resolution', 'resolution_runs']
__all__ += ['block_grid_mask', 'blockwise_mask', 'exact_random_mask', 'kept_first_order',
            'random_mask', 'random_mask_count', 'split_halves', 'patchify', 'unpatchify']
__all__ += ['LassoCombination', 'DEFAULT_BN_SPLITS', 'SplitBatchNorm1d', 'SplitBatchNorm2d',
            'convert_split_bn', 'key_permutation', 'TrainingProgress',
            'delayed_warmup_factor']
