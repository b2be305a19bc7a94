default_scope = 'mmssl'

default_hooks = dict(
    # mmengine's RuntimeInfoHook, but the losses are read off the device once per logger
    # interval (no host sync per step), and a NaN/Inf loss stops training by name. To skip
    # such steps instead (one host read per step): optim_wrapper=dict(
    # type='SkipNonFiniteOptimWrapper', ...), or AutocastOptimWrapper(skip_nonfinite=True);
    # see docs/fault_tolerance.md.
    runtime_info=dict(type='DeferredRuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # Written to a temporary file, fsynced and renamed: a crash never breaks "latest".
    checkpoint=dict(type='AtomicCheckpointHook', interval=10, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # Python/numpy/torch RNG states in each checkpoint, restored on --resume.
    rng_state=dict(type='RNGStateHook'),
    # The training progress to the model before each iteration (its schedules: EMA factor,
    # warm-ups, frozen parameters), the EMA of its target networks after it; nothing for
    # a model without them.
    momentum_update=dict(type='MomentumUpdateHook'),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # tools/train.py switches to gloo when no GPU is present.
    dist_cfg=dict(backend='nccl'),
)

log_processor = dict(window_size=10)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)

log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
