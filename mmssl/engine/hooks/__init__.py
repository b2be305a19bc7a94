from .atomic_checkpoint_hook import AtomicCheckpointHook
from .bad_image_report_hook import BadImageReportHook, TooManyBadImagesError
from .compile_backbones_hook import CompileBackbonesHook
from .deferred_log_hook import DeferredRuntimeInfoHook
from .epoch_schedule_hook import EpochScheduleHook
from .freeze_parameters_hook import FreezeParametersHook
from .knn_eval_hook import KNNEvalHook
from .loss_weight_warmup_hook import LossWeightWarmupHook
from .momentum_update_hook import MomentumUpdateHook
from .rng_state_hook import RNGStateHook

__all__ = ['AtomicCheckpointHook', 'BadImageReportHook', 'TooManyBadImagesError',
           'CompileBackbonesHook', 'DeferredRuntimeInfoHook',
           'KNNEvalHook', 'LossWeightWarmupHook', 'MomentumUpdateHook', 'EpochScheduleHook',
           'FreezeParametersHook', 'RNGStateHook']
