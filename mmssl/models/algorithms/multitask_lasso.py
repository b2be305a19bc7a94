"""Multi-task self-supervision with a lasso layer combination (Doersch & Zisserman 2017)."""
from typing import Optional, Union

import torch
from mmpretrain.structures import DataSample
from torch import Tensor, nn

from mmssl.models.tasks import PretextTask, build_task
from mmssl.models.utils.build import ModuleCfg
from mmssl.registry import MODELS
from .base import BaseSelfSupervisor


@MODELS.register_module()
class MultiTaskLasso(BaseSelfSupervisor):
    """Several pretext tasks on one trunk, each reading its own sparse mix of the trunk's blocks.

    The backbone returns L block outputs (``out_indices`` of every block to mix); the neck, a
    :class:`LassoCombination` with one row of α per task, gives task t the combination
    ``Σ_l α[t, l] · P_l(feat_l)`` of its views, which the task (a :class:`PretextTask`)
    reads: its per-view features (V, N, C), the combination's spatial mean, or, for a task
    that ``reads_map``, the combined map itself (the neck's ``out_size`` > 1). The loss is
    the sum of the tasks' losses (``<task>.loss``, each times the task's ``loss_weight``;
    the tasks' metrics as ``<task>.acc``, ...) plus ``l1_weight · Σ|α|`` (``loss_lasso``);
    every α is logged as ``alpha/<task>/<l>`` (``tools/analysis/plot_lasso_alpha.py``
    draws them as a heat map).

    Data: one loader whose pipeline ends in ``MultiTaskViews`` (each image gives every
    task's views, concatenated in the order of ``tasks``, and ``pretext_label`` a dict of
    labels per task). ``schedule='mixed'`` trains every task on every batch;
    ``'round_robin'`` trains one task per step, in turn (the step counter is a buffer,
    saved in checkpoints).

    Args:
        backbone: the trunk, returning the L block outputs.
        neck: the :class:`LassoCombination` (``num_tasks`` = the number of tasks).
        tasks: a dict task name -> task config (or :class:`PretextTask`), in view order,
            e.g. ``dict(type='ClassificationTask', head=..., num_views=4)`` (labels from
            ``pretext_label[name]``), ``CountingTask``, ``ExemplarTask``,
            ``ColorizationTask`` or ``MotionSegmentationTask`` (frames of videos have their
            motion masks, still images mixed into the loader are ignored). The heads are
            registered as ``head.<name>``.
        l1_weight: the weight of the lasso penalty.
        schedule: ``'mixed'`` or ``'round_robin'``.
    """

    def __init__(self, backbone: ModuleCfg, neck: ModuleCfg,
                 tasks: dict[str, Union[dict, PretextTask]], l1_weight: float = 1e-3,
                 schedule: str = 'mixed', **kwargs) -> None:
        if schedule not in ('mixed', 'round_robin'):
            raise ValueError(f"schedule must be 'mixed' or 'round_robin', got {schedule!r}")
        built: dict[str, PretextTask] = {}
        for name, cfg in tasks.items():
            try:
                built[name] = build_task(cfg).bound(f'{type(self).__name__} task {name}', name)
            except (ValueError, TypeError) as error:
                raise type(error)(f'task {name}: {error}') from error
        super().__init__(backbone=backbone, neck=neck,
                         head=nn.ModuleDict({name: task.head for name, task in built.items()}),
                         **kwargs)
        self.tasks = built
        if self.neck.alpha.shape[0] != len(built):
            raise ValueError(f'the lasso combination has {self.neck.alpha.shape[0]} rows of '
                             f'alpha for {len(built)} tasks')
        for name, task in built.items():
            if task.reads_map and self.neck.out_size == 1:
                raise ValueError(f"task {name} reads a feature map: set the neck's "
                                 f"out_size > 1")
        self.l1_weight = l1_weight
        self.schedule = schedule
        self.register_buffer('step', torch.zeros((), dtype=torch.long))

    @property
    def task_names(self) -> list[str]:
        return list(self.tasks)

    def task_loss(self, index: int, views: list[Tensor],
                  data_samples: Optional[list[DataSample]]) -> dict[str, Tensor]:
        """The losses of task ``index`` on its V view batches (N, C, h, w)."""
        name = self.task_names[index]
        task = self.tasks[name]
        n = views[0].shape[0]
        mixed = self.neck(self.backbone(torch.cat(views)), index)  # (V*N, C) or (V*N, C, s, s)
        if task.reads_map:
            feats = mixed
        else:
            feats = (mixed.mean(dim=(2, 3)) if mixed.ndim == 4 else mixed)
            feats = feats.reshape(len(views), n, -1)
        losses = task.loss(feats, data_samples)
        return {f'{name}.{key}': task.loss_weight * value if 'loss' in key else value
                for key, value in losses.items()}

    def loss(self, inputs: list[Tensor],
             data_samples: Optional[list[DataSample]] = None) -> dict[str, Tensor]:
        """inputs: every task's views, in the order of the tasks (``MultiTaskViews``)."""
        counts = [task.num_views for task in self.tasks.values()]
        views = self.split_views(inputs, sum(counts))
        if self.schedule == 'mixed':
            active = range(len(counts))
        else:
            active = [int(self.step) % len(counts)]
        self.step += 1
        losses: dict[str, Tensor] = {}
        starts = [sum(counts[:i]) for i in range(len(counts))]
        for index in active:
            losses.update(self.task_loss(
                index, views[starts[index]:starts[index] + counts[index]], data_samples))
        losses['loss_lasso'] = self.l1_weight * self.neck.penalty()
        for t, name in enumerate(self.task_names):
            for layer, value in enumerate(self.neck.alpha[t].detach()):
                losses[f'alpha/{name}/{layer}'] = value
        return losses
