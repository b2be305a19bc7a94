"""Multi-task self-supervision with a lasso layer combination (Doersch & Zisserman 2017)."""
from typing import Optional

import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample
from torch import Tensor, nn

from mmssl.models.utils.build import ModuleCfg, build_module
from mmssl.registry import MODELS
from .base import BaseSelfSupervisor
from .pretext import counting_terms, dense_labels, group_views, pretext_labels


@MODELS.register_module()
class MultiTaskLasso(BaseSelfSupervisor):
    """Several pretext tasks on one trunk, each reading its own sparse mix of the trunk's blocks.

    The backbone returns L block outputs (``out_indices`` of every block to mix); the neck, a
    :class:`LassoCombination` with one row of α per task, gives task t the combination
    ``Σ_l α[t, l] · P_l(feat_l)``, which the task's own head reads. The loss is the sum of
    the tasks' losses (``<task>.loss``) plus ``l1_weight · Σ|α|`` (``loss_lasso``); every α
    is logged as ``alpha/<task>/<l>`` (``tools/analysis/plot_lasso_alpha.py`` draws them as
    a heat map).

    Data: one loader whose pipeline ends in ``MultiTaskViews`` (each image gives every
    task's views, concatenated in the order of ``tasks``, and ``pretext_label`` a dict of
    labels per task). ``schedule='mixed'`` trains every task on every batch;
    ``'round_robin'`` trains one task per step, in turn (the step counter is a buffer,
    saved in checkpoints).

    Args:
        backbone: the trunk, returning the L block outputs.
        neck: the :class:`LassoCombination` (``num_tasks`` = the number of tasks).
        head: a dict task name -> task, in view order. A task is ``dict(head=..., num_views=V,
            views_per_group=G)`` for a classification task (a :class:`PretextClsHead`;
            labels from ``pretext_label[name]``), or ``dict(head=..., num_views=5,
            kind='counting')`` for counting (a :class:`CountingHead`), or ``dict(head=...,
            num_views=2, kind='exemplar')`` for exemplar (two augmented views of the image;
            a :class:`TripletRankingHead` or :class:`InfoNCEHead` on their L2-normalised
            combined features, the other images of the batch as negatives), or
            ``dict(head=..., num_views=1, kind='colorization')`` (a :class:`ColorizationHead`
            reading the combined *map*: the neck's ``out_size`` > 1, the other kinds then
            read its spatial mean; labels from ``ab_label``), or ``dict(head=..., num_views=1,
            kind='motion_segmentation')`` (a :class:`DenseClsHead` with 2 classes and
            ``ignore_index=255`` on the combined map, labels from ``motion_label``: frames
            of videos have their motion masks, still images mixed into the loader are
            ignored); any may set ``loss_weight`` (default 1), a factor on the task's losses.
        l1_weight: the weight of the lasso penalty.
        schedule: ``'mixed'`` or ``'round_robin'``.
    """

    KINDS = ('classification', 'counting', 'exemplar', 'colorization', 'motion_segmentation')
    #: the per-pixel kinds (a head on the combined map) and their data sample label field
    DENSE_LABELS = dict(colorization='ab_label', motion_segmentation='motion_label')

    def __init__(self, backbone: ModuleCfg, neck: ModuleCfg, head: dict,
                 l1_weight: float = 1e-3, schedule: str = 'mixed', **kwargs) -> None:
        if schedule not in ('mixed', 'round_robin'):
            raise ValueError(f"schedule must be 'mixed' or 'round_robin', got {schedule!r}")
        self.task_cfgs = {}
        heads = nn.ModuleDict()
        for name, task in head.items():
            task = dict(task)
            kind = task.pop('kind', 'classification')
            if kind not in self.KINDS:
                raise ValueError(f'task {name}: kind must be one of {self.KINDS}, got {kind!r}')
            heads[name] = build_module(task.pop('head'))
            self.task_cfgs[name] = dict(kind=kind, num_views=task.pop('num_views'),
                                        views_per_group=task.pop('views_per_group', 1),
                                        loss_weight=task.pop('loss_weight', 1.0))
            if task:
                raise ValueError(f'task {name}: unknown keys {sorted(task)}')
        super().__init__(backbone=backbone, neck=neck, head=heads, **kwargs)
        if self.neck.alpha.shape[0] != len(heads):
            raise ValueError(f'the lasso combination has {self.neck.alpha.shape[0]} rows of '
                             f'alpha for {len(heads)} tasks')
        self.l1_weight = l1_weight
        self.schedule = schedule
        self.register_buffer('step', torch.zeros((), dtype=torch.long))

    @property
    def task_names(self) -> list[str]:
        return list(self.task_cfgs)

    def task_loss(self, index: int, views: list[Tensor],
                  data_samples: Optional[list[DataSample]]) -> dict[str, Tensor]:
        """The losses of task ``index`` on its V view batches (N, C, h, w)."""
        name = self.task_names[index]
        cfg, head = self.task_cfgs[name], self.head[name]
        n = views[0].shape[0]
        mixed = self.neck(self.backbone(torch.cat(views)), index)  # (V*N, C) or (V*N, C, s, s)
        feats = (mixed.mean(dim=(2, 3)) if mixed.ndim == 4 else mixed).reshape(len(views), n, -1)
        if cfg['kind'] in self.DENSE_LABELS:
            if len(views) != 1 or mixed.ndim != 4:
                raise ValueError(f"{cfg['kind']} task {name} needs num_views=1 and a feature "
                                 f"map (the neck's out_size > 1)")
            labels = dense_labels(data_samples, self.DENSE_LABELS[cfg['kind']],
                                  f'{type(self).__name__} task {name}')
            losses = head.loss(mixed, labels.to(mixed.device))
        elif cfg['kind'] == 'counting':
            counts = head(feats.flatten(0, 1)).reshape(len(views), n, -1)
            losses = head.loss(*counting_terms(counts))
        elif cfg['kind'] == 'exemplar':
            if len(views) != 2:
                raise ValueError(f'exemplar task {name} needs num_views=2, got {len(views)}')
            query, key = F.normalize(feats, dim=2)
            losses = dict(loss=head.loss(query, key))
        else:
            groups = cfg['num_views'] // cfg['views_per_group']
            labels = pretext_labels(data_samples, groups, f'{type(self).__name__} task {name}',
                                    task=name).to(feats.device)
            losses = head.loss(group_views(feats, cfg['views_per_group']), labels)
        weight = cfg['loss_weight']
        return {f'{name}.{key}': weight * value if 'loss' in key else value
                for key, value in losses.items()}

    def loss(self, inputs: list[Tensor],
             data_samples: Optional[list[DataSample]] = None) -> dict[str, Tensor]:
        """inputs: every task's views, in the order of the tasks (``MultiTaskViews``)."""
        counts = [cfg['num_views'] for cfg in self.task_cfgs.values()]
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
