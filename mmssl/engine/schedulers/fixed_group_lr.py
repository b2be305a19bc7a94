from mmengine.optim.scheduler.lr_scheduler import LRSchedulerMixin
from mmengine.optim.scheduler.param_scheduler import INF, _ParamScheduler

from mmssl.registry import PARAM_SCHEDULERS


@PARAM_SCHEDULERS.register_module()
class FixedGroupLR(LRSchedulerMixin, _ParamScheduler):
    """Holds the parameter groups marked ``fix_lr=True`` at their initial lr.

    mmengine's lr schedulers scale every parameter group alike. SimSiam trains its
    predictor at a constant lr while the rest follows a cosine schedule; to get that,
    mark the predictor's group with ``paramwise_cfg`` and end ``param_scheduler`` with
    this scheduler::

        optim_wrapper = dict(..., paramwise_cfg=dict(
            custom_keys={'head.predictor': dict(fix_lr=True)}))
        param_scheduler = [dict(type='CosineAnnealingLR', ..., convert_to_iter_based=True),
                           dict(type='FixedGroupLR')]

    ``ParamSchedulerHook`` steps the schedulers in list order, so after every step
    the marked groups are set back to their initial lr (the optimizer's lr times the
    group's ``lr_mult``, after ``auto_scale_lr``); the other groups are untouched. It
    steps every iteration (``by_epoch=False``): the schedulers before it should too
    (``convert_to_iter_based=True``), else a marked group trains one iteration per epoch
    at the scheduled lr.

    Args:
        optimizer: the optimizer or optim wrapper (the runner passes it).
        by_epoch: keep False, see above.
        verbose: print the lr of every group at each step.
        begin, end: ignored (the groups are held during the whole training).

    Raises:
        ValueError: if no parameter group is marked ``fix_lr=True``.
    """

    def __init__(self, optimizer, by_epoch: bool = False, verbose: bool = False,
                 begin: int = 0, end: int = INF) -> None:
        # begin/end are ignored: the runner fills in an ``end`` (counted in epochs when a
        # config leaves out by_epoch), and the marked groups are held all along.
        if not any(group.get('fix_lr', False) for group in optimizer.param_groups):
            raise ValueError(
                "FixedGroupLR: no parameter group is marked fix_lr=True; add "
                "paramwise_cfg=dict(custom_keys={'<param name part>': dict(fix_lr=True)}) "
                'to the optim_wrapper')
        super().__init__(optimizer, by_epoch=by_epoch, verbose=verbose)

    def _get_value(self) -> list[float]:
        return [base if group.get('fix_lr', False) else group['lr']
                for group, base in zip(self.optimizer.param_groups, self.base_values)]
