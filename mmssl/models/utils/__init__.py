from .ema import cosine_momentum, ema_update_
from .shuffle_bn import forward_in_splits, forward_shuffled

__all__ = ['cosine_momentum', 'ema_update_', 'forward_in_splits', 'forward_shuffled']
