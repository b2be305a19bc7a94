from .atomic_checkpoint_hook import AtomicCheckpointHook
from .knn_eval_hook import KNNEvalHook
from .momentum_update_hook import MomentumUpdateHook

__all__ = ['AtomicCheckpointHook', 'KNNEvalHook', 'MomentumUpdateHook']
