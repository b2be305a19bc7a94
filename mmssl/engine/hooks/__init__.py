from .atomic_checkpoint_hook import AtomicCheckpointHook
from .bad_image_report_hook import BadImageReportHook
from .compile_backbones_hook import CompileBackbonesHook
from .deferred_log_hook import DeferredRuntimeInfoHook
from .knn_eval_hook import KNNEvalHook
from .momentum_update_hook import MomentumUpdateHook, training_progress
from .rng_state_hook import RNGStateHook
from .unwrap import unwrap_model

__all__ = ['AtomicCheckpointHook', 'BadImageReportHook',
           'CompileBackbonesHook', 'DeferredRuntimeInfoHook',
           'KNNEvalHook', 'MomentumUpdateHook', 'RNGStateHook', 'training_progress',
           'unwrap_model']
