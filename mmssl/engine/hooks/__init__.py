from .atomic_checkpoint_hook import AtomicCheckpointHook
from .epoch_schedule_hook import EpochScheduleHook
from .freeze_parameters_hook import FreezeParametersHook
from .knn_eval_hook import KNNEvalHook
from .loss_weight_warmup_hook import LossWeightWarmupHook
from .momentum_update_hook import MomentumUpdateHook

__all__ = ['AtomicCheckpointHook', 'KNNEvalHook', 'LossWeightWarmupHook', 'MomentumUpdateHook',
           'EpochScheduleHook', 'FreezeParametersHook']
