from typing import Optional, Sequence

import torch
from mmengine.evaluator import Evaluator
from mmengine.hooks import Hook

from mmssl.registry import HOOKS
from mmssl.utils.progress import progress_bar
from .unwrap import unwrap_model


@HOOKS.register_module()
class KNNEvalHook(Hook):
    """Runs the weighted kNN evaluation during pretraining and logs ``knn/top1``, ``knn/top5``.

    It passes the model (predict mode) over ``dataloader``, whose dataset is a
    :class:`~mmssl.datasets.KNNDataset`, and scores it with
    :class:`~mmssl.evaluation.KNNAccuracy`: the same code as ``tools/test.py``.
    When the model has an online linear probe (its ``has_online_probe`` is true), the
    same pass also scores the probe's predictions on the query images with
    :class:`~mmssl.evaluation.ProbeAccuracy` and logs ``probe/top1`` beside ``knn/top1``.
    Results go to the log and to the visualizer's scalars (``vis_data/scalars.json``).

    Args:
        dataloader: a dataloader config (or dataloader) over a ``KNNDataset``.
        interval: evaluate every ``interval`` epochs (``by_epoch``) or iterations.
        by_epoch: count ``interval`` in epochs, else in iterations.
        before_train: also evaluate the initial weights before the first iteration
            (the random-init baseline; resumed runs skip it).
        k, temperature, topk: as ``KNNAccuracy``.
        probe_topk: the accuracies of the online probe to report, if it has one.
    """

    priority = 'LOW'

    def __init__(self,
                 dataloader,
                 interval: int = 1,
                 by_epoch: bool = True,
                 before_train: bool = False,
                 k: int = 20,
                 temperature: float = 0.07,
                 topk: Sequence[int] = (1, 5),
                 probe_topk: Sequence[int] = (1,)) -> None:
        if interval < 1:
            raise ValueError(f'KNNEvalHook interval must be >= 1, got {interval}')
        self.dataloader_cfg = dataloader
        self.interval, self.by_epoch, self.eval_before_train = interval, by_epoch, before_train
        self.metric_cfg = dict(type='KNNAccuracy', k=k, temperature=temperature, topk=topk)
        self.probe_metric_cfg = dict(type='ProbeAccuracy', topk=probe_topk)
        self._dataloader = None
        self._evaluator: Optional[Evaluator] = None

    def before_train(self, runner) -> None:
        self._dataloader = runner.build_dataloader(self.dataloader_cfg, seed=runner.seed)
        model = unwrap_model(runner.model)
        metrics = [self.metric_cfg]
        if getattr(model, 'has_online_probe', False):
            metrics.append(self.probe_metric_cfg)
        self._evaluator = runner.build_evaluator(metrics)
        if self.eval_before_train and runner.iter == 0:
            self.evaluate(runner, done_iters=0)

    def after_train_epoch(self, runner) -> None:
        if self.by_epoch and (self.every_n_epochs(runner, self.interval)
                              or self.is_last_train_epoch(runner)):
            self.evaluate(runner, done_iters=runner.iter)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if not self.by_epoch and (self.every_n_train_iters(runner, self.interval)
                                  or self.is_last_train_iter(runner)):
            self.evaluate(runner, done_iters=runner.iter + 1)

    @torch.no_grad()
    def evaluate(self, runner, done_iters: int) -> dict:
        """Evaluate the model after ``done_iters`` training iterations; returns
        {'knn/top1': ..., 'knn/top5': ...} (and 'probe/top1' with an online probe),
        logged at step ``done_iters``."""
        model = runner.model
        was_training = model.training
        model.eval()
        for data_batch in progress_bar(self._dataloader, 'kNN evaluation', unit='batch'):
            outputs = model.test_step(data_batch)
            self._evaluator.process(data_samples=outputs, data_batch=data_batch)
        metrics = self._evaluator.evaluate(len(self._dataloader.dataset))
        model.train(was_training)
        text = ', '.join(f'{key}: {value:.2f}' for key, value in metrics.items())
        runner.logger.info(f'kNN evaluation after {done_iters} iterations: {text}')
        runner.visualizer.add_scalars(metrics, step=done_iters)
        return metrics
