"""mmssl/models/tasks: one task object, one loss, in a single-task algorithm and in
MultiTaskLasso."""
import numpy as np
import pytest
import torch
from mmpretrain.structures import DataSample

from mmssl.models.algorithms import MultiTaskLasso
from mmssl.models.tasks import ExemplarTask, task_types
from mmssl.registry import MODELS
from tests._helpers import image_views

STAGES = [8, 16, 32, 64]  # the tiny ResNet's stage channels
TINY_RESNET = dict(type='ResNet_CIFAR', depth=18, stem_channels=8, base_channels=8,
                   norm_cfg=dict(type='BN'))
PREPROCESSOR = dict(mean=[0, 0, 0], std=[1, 1, 1], to_rgb=False)
# algorithm, head, views per image, view size, the stage the head reads, labels per image
SINGLE = {
    'RotationPred': (dict(type='PretextClsHead', in_channels=64, num_classes=4), 4, 8, 3),
    'RelativeLoc': (dict(type='PretextClsHead', in_channels=64, num_classes=8, num_parts=2,
                         hid_channels=[16]), 2, 8, 3),
    'Counting': (dict(type='CountingHead', in_channels=64, count_channels=8,
                      with_last_bn=True), 5, 8, 3),
    'Colorization': (dict(type='ColorizationHead', in_channels=32, num_bins=484,
                          hid_channels=16), 1, 16, 2),
    'MotionSegmentation': (dict(type='DenseClsHead', in_channels=32, num_classes=2,
                                hid_channels=16, ignore_index=255), 1, 16, 2),
}


def samples_for(algo: str, n: int, multitask: bool) -> list[DataSample]:
    """The algorithm's labels; ``pretext_label`` per task (``MultiTaskViews``) if
    ``multitask``."""
    gen = torch.Generator().manual_seed(1)
    samples = []
    for i in range(n):
        sample = DataSample()
        if algo in ('RotationPred', 'RelativeLoc'):
            label = np.arange(4) if algo == 'RotationPred' else np.array([i % 8])
            sample.set_field(dict(task=label) if multitask else label, 'pretext_label')
        elif algo == 'Colorization':
            sample.set_field(torch.randint(4, (8, 8), generator=gen) * 100, 'ab_label')
        elif algo == 'MotionSegmentation':
            sample.set_field(torch.randint(2, (8, 8), generator=gen), 'motion_label')
        samples.append(sample)
    return samples


def lasso_on_one_stage(task, stage: int, out_size: int) -> MultiTaskLasso:
    """MultiTaskLasso with ``task`` alone, its α selecting ``stage`` through an identity
    projection: the task reads exactly that stage's (pooled) output."""
    channels = STAGES[stage]
    model = MultiTaskLasso(
        backbone=dict(TINY_RESNET, out_indices=(0, 1, 2, 3)),
        neck=dict(type='LassoCombination', in_channels=STAGES, out_channels=channels,
                  num_tasks=1, out_size=out_size),
        tasks=dict(task=task), data_preprocessor=PREPROCESSOR)
    with torch.no_grad():
        model.neck.alpha.copy_(torch.eye(len(STAGES))[stage][None])
        projection = model.neck.projections[stage]
        projection.weight.copy_(torch.eye(channels)[:, :, None, None])
        projection.bias.zero_()
    return model


@pytest.mark.parametrize('algo', list(SINGLE))
def test_one_task_object_gives_one_loss_alone_and_in_the_multitask_model(algo):
    head, num_views, size, stage = SINGLE[algo]
    torch.manual_seed(0)
    single = MODELS.build(dict(type=algo, backbone=dict(TINY_RESNET, out_indices=(stage,)),
                               head=head, data_preprocessor=PREPROCESSOR))
    multi = lasso_on_one_stage(single.task, stage, out_size=1 if stage == 3 else 4)
    multi.backbone.load_state_dict(single.backbone.state_dict())
    assert multi.head['task'] is single.head  # the task's head, registered by both
    n = 4
    views = image_views(n, size, num_views)
    head_params = list(single.head.parameters())

    def loss_and_head_grads(model, samples, key):
        for param in head_params:
            param.grad = None
        losses = model.loss(views, samples)
        losses[key].backward()
        return losses, [param.grad.clone() for param in head_params]

    alone, alone_grads = loss_and_head_grads(single, samples_for(algo, n, False), 'loss')
    joint, joint_grads = loss_and_head_grads(multi, samples_for(algo, n, True), 'task.loss')
    for key, value in alone.items():  # 'loss', and 'acc' where the head reports it
        assert joint[f'task.{key}'].item() == pytest.approx(value.item(), rel=1e-5, abs=1e-6)
    for a, b in zip(alone_grads, joint_grads):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
    assert single.task.name is None and multi.tasks['task'].name == 'task'


def test_the_exemplar_task_is_the_exemplar_algorithms_loss():
    model = MODELS.build(dict(
        type='Exemplar', backbone=dict(TINY_RESNET, out_indices=(3,)),
        neck=dict(type='MoCoV2Neck', in_channels=64, hid_channels=32, out_channels=16,
                  with_avg_pool=True), bn_splits=1, data_preprocessor=PREPROCESSOR))
    views = image_views(4, 8)
    task = ExemplarTask(head=model.head)
    expected = task.loss(torch.stack([model.project(view) for view in views]), None)
    assert model.loss(views)['loss'].item() == pytest.approx(expected['loss'].item(), rel=1e-5)


def test_unknown_task_types_and_wrong_views_fail_clearly():
    neck = dict(type='LassoCombination', in_channels=STAGES, out_channels=16, num_tasks=1)
    rotation = dict(type='ClassificationTask', num_views=4,
                    head=dict(type='PretextClsHead', in_channels=16, num_classes=4))

    def build(task, out_size=1):
        return MultiTaskLasso(backbone=dict(TINY_RESNET, out_indices=(0, 1, 2, 3)),
                              neck=dict(neck, out_size=out_size), tasks=dict(a=task))
    assert build(rotation).tasks['a'].owner == 'MultiTaskLasso task a'
    assert {'ClassificationTask', 'CountingTask', 'ExemplarTask', 'ColorizationTask',
            'MotionSegmentationTask'} <= set(task_types())
    for wrong in ('NoSuchTask', 'PretextClsHead', None):  # None: no type (an old kind=...)
        cfg = {key: value for key, value in dict(rotation, type=wrong).items() if value}
        with pytest.raises(ValueError, match=f"task a: unknown task type {wrong!r}: .*"
                                             f"'ClassificationTask', 'ColorizationTask'"):
            build(cfg)
    with pytest.raises(ValueError, match='task a: .*ExemplarTask needs num_views=2, got 3'):
        build(dict(type='ExemplarTask', num_views=3, head=dict(type='TripletRankingHead')))
    with pytest.raises(ValueError, match='task a: .*3 views do not split into groups of 2'):
        build(dict(rotation, num_views=3, views_per_group=2))
    colorization = dict(type='ColorizationTask', num_views=1,
                        head=dict(type='ColorizationHead', in_channels=16, num_bins=484))
    with pytest.raises(ValueError, match="task a reads a feature map: set the neck's out_size"):
        build(colorization)
    assert build(colorization, out_size=2).tasks['a'].reads_map
