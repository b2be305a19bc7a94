"""mmssl/models/algorithms/multitask_lasso.py: MultiTaskLasso."""
import numpy as np
import pytest
import torch
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample

from mmssl.registry import MODELS


THREE_TASKS = dict(
    rotation=dict(type='ClassificationTask', num_views=4,
                  head=dict(type='PretextClsHead', in_channels=32, num_classes=4)),
    relpos=dict(type='ClassificationTask', num_views=2, views_per_group=2,
                head=dict(type='PretextClsHead', in_channels=32, num_classes=8,
                          num_parts=2, hid_channels=[16])),
    counting=dict(type='CountingTask', num_views=5,
                  head=dict(type='CountingHead', in_channels=32, count_channels=8,
                            with_last_bn=True)))


def build(schedule='mixed', l1_weight=0.01, tasks=THREE_TASKS, out_size=1):
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='MultiTaskLasso',
        backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=8, base_channels=8,
                      out_indices=(0, 1, 2, 3), norm_cfg=dict(type='BN')),
        neck=dict(type='LassoCombination', in_channels=[8, 16, 32, 64], out_channels=32,
                  num_tasks=len(tasks), out_size=out_size),
        tasks=tasks, l1_weight=l1_weight, schedule=schedule,
        data_preprocessor=dict(mean=[0, 0, 0], std=[1, 1, 1], to_rgb=False)))
    model.init_weights()
    return model


def batch(n=4):
    gen = torch.Generator().manual_seed(0)
    views = [torch.randn(n, 3, 8, 8, generator=gen) for _ in range(11)]
    samples = []
    for i in range(n):
        sample = DataSample()
        sample.set_field(dict(rotation=np.arange(4), relpos=np.array([i % 8])),
                         'pretext_label')
        samples.append(sample)
    return views, samples


def test_every_task_alpha_and_the_penalty_in_the_loss():
    model = build()
    views, samples = batch()
    losses = model(views, samples, mode='loss')
    assert {'rotation.loss', 'relpos.loss', 'counting.loss', 'loss_lasso'} <= set(losses)
    assert losses['loss_lasso'].item() == pytest.approx(0.01 * 3 * 4 * 0.25)
    assert losses['alpha/relpos/2'].item() == pytest.approx(0.25)
    assert not any('loss' in key for key in losses if key.startswith('alpha/'))
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    assert model.neck.alpha.grad.abs().min() > 0  # every task's every block
    assert model.backbone.conv1.weight.grad.abs().sum() > 0
    # task t's head reads row t of alpha: zero a row and its task's features vanish
    with torch.no_grad():
        model.neck.alpha[0].zero_()
        feats = model.neck(model.backbone(torch.cat(views[:4])), 0)
    assert feats.abs().max() == 0


def test_loss_weight_scales_a_tasks_losses_only():
    views, samples = batch()
    plain = build().loss(views, samples)
    model = build()
    model.tasks['counting'].loss_weight = 0.5
    weighted = model.loss(views, samples)
    assert weighted['counting.loss'].item() == pytest.approx(0.5 * plain['counting.loss'].item())
    assert weighted['rotation.loss'].item() == pytest.approx(plain['rotation.loss'].item())
    assert weighted['rotation.acc'].item() == plain['rotation.acc'].item()


def test_a_few_steps_lower_the_loss():
    model = build()
    views, samples = batch()
    wrapper = OptimWrapper(torch.optim.Adam(model.parameters(), lr=2e-3))

    def total():
        return sum(v for k, v in model(views, samples, mode='loss').items() if 'loss' in k)
    first = total().item()
    for _ in range(6):
        wrapper.update_params(total())
    assert total().item() < 0.8 * first


def test_round_robin_trains_one_task_per_step_and_resumes_its_turn():
    model = build('round_robin')
    views, samples = batch()
    turns = [sorted(k for k in model(views, samples, mode='loss') if k.endswith('.loss'))
             for _ in range(4)]
    assert turns == [['rotation.loss'], ['relpos.loss'], ['counting.loss'], ['rotation.loss']]
    resumed = build('round_robin')
    resumed.load_state_dict(model.state_dict())
    # a fresh model would start at rotation; the resumed one goes on with the 5th turn
    assert [sorted(k for k in resumed(views, samples, mode='loss') if k.endswith('.loss'))
            for _ in range(2)] == [['relpos.loss'], ['counting.loss']]


def test_errors():
    model = build()
    views, samples = batch()
    with pytest.raises(ValueError, match='needs 11 views per image, got 10'):
        model.loss(views[:10], samples)
    with pytest.raises(ValueError, match='task rotation needs pretext_label'):
        model.loss(views, [DataSample() for _ in samples])
    with pytest.raises(ValueError, match="schedule must be 'mixed' or 'round_robin'"):
        build('random')


def test_exemplar_task_is_the_ranking_loss_on_the_combined_features():
    model = build(tasks=dict(
        rotation=THREE_TASKS['rotation'],
        exemplar=dict(type='ExemplarTask', num_views=2,
                      head=dict(type='TripletRankingHead', margin=0.5))))
    views, samples = batch()
    views = views[:6]
    losses = model.loss(views, samples)
    with torch.no_grad():  # direct re-computation from the exemplar row of alpha
        feats = model.neck(model.backbone(torch.cat(views[4:])), 1)
        q, k = torch.nn.functional.normalize(feats, dim=1).chunk(2)
    n = q.shape[0]
    expected = np.mean([max(0.0, float(q[i] @ k[j] - q[i] @ k[i]) + 0.5)
                        for i in range(n) for j in range(n) if i != j])
    assert losses['exemplar.loss'].item() == pytest.approx(expected, rel=1e-4)
    losses['exemplar.loss'].backward()
    assert model.neck.alpha.grad[1].abs().min() > 0 and model.neck.alpha.grad[0].abs().max() == 0


def test_colorization_task_reads_the_combined_map_the_others_its_mean():
    from mmcv.transforms import Compose
    from mmengine.dataset import default_collate
    model = build(out_size=4, tasks=dict(
        rotation=THREE_TASKS['rotation'],
        colorization=dict(type='ColorizationTask', num_views=1,
                          head=dict(type='ColorizationHead', in_channels=32,
                                    num_bins=484, hid_channels=16))))
    # real views and labels from the pipeline: MultiTaskViews keeps colorization's ab_label
    rng = np.random.default_rng(0)
    pipeline = Compose([
        dict(type='MultiTaskViews', tasks=dict(
            rotation=[dict(type='Resize', scale=(16, 16)), dict(type='FourRotations')],
            colorization=[dict(type='Resize', scale=(16, 16)),
                          dict(type='ColorizationViews', target_size=8)])),
        dict(type='PackInputs', algorithm_keys=['pretext_label', 'ab_label'])])
    packed = [pipeline(dict(img=rng.integers(0, 255, (20, 20, 3), np.uint8)))
              for _ in range(4)]
    data = model.data_preprocessor(default_collate(packed))  # as the pretext configs
    views, samples = data['inputs'], data['data_samples']
    losses = model.loss(views, samples)
    with torch.no_grad():  # direct re-computation from the colorization row of alpha
        mixed = model.neck(model.backbone(views[4]), 1)
        labels = torch.stack([torch.as_tensor(s.ab_label) for s in samples]).long()
        expected = model.head['colorization'].loss(mixed, labels)['loss']
    assert mixed.shape == (4, 32, 4, 4) and labels.shape == (4, 8, 8)
    assert losses['colorization.loss'].item() == pytest.approx(expected.item(), rel=1e-5)
    assert torch.isfinite(losses['rotation.loss'])  # the rotation head read the map's mean
    losses['colorization.loss'].backward()
    assert model.neck.alpha.grad[1].abs().min() > 0 and model.neck.alpha.grad[0].abs().max() == 0
    with pytest.raises(ValueError, match='MultiTaskLasso task colorization needs ab_label'):
        model.loss(views, [DataSample(pretext_label=s.pretext_label) for s in samples])


def test_motion_segmentation_task_on_frames_and_still_images(tmp_path):
    """Frames with motion masks and still images in one loader: the still images' pixels
    are ignored, the task's loss is the head's on its row of the combined map."""
    import cv2
    from mmcv.transforms import Compose
    from mmengine.dataset import default_collate
    model = build(out_size=4, tasks=dict(
        rotation=THREE_TASKS['rotation'],
        motion=dict(type='MotionSegmentationTask', num_views=1,
                    head=dict(type='DenseClsHead', in_channels=32, num_classes=2,
                              hid_channels=16, ignore_index=255))))
    rng = np.random.default_rng(0)
    mask = np.zeros((24, 24), np.uint8)
    mask[6:18, 8:20] = 255
    cv2.imwrite(str(tmp_path / 'mask.png'), mask)
    pipeline = Compose([
        dict(type='LoadMotionMask'),
        dict(type='MultiTaskViews', tasks=dict(
            rotation=[dict(type='Resize', scale=(16, 16)), dict(type='FourRotations')],
            motion=[dict(type='MotionSegmentationViews', scale=16, target_size=8)])),
        dict(type='PackInputs', algorithm_keys=['pretext_label', 'motion_label'])])
    packed = [pipeline(dict(img=rng.integers(0, 255, (24, 24, 3), np.uint8),
                            **({'mask_path': str(tmp_path / 'mask.png')} if i < 3 else {})))
              for i in range(4)]
    data = model.data_preprocessor(default_collate(packed))
    views, samples = data['inputs'], data['data_samples']
    labels = torch.stack([torch.as_tensor(s.motion_label) for s in samples]).long()
    assert (labels[3] == 255).all() and set(labels[:3].unique().tolist()) <= {0, 1}
    assert labels[:3].sum() > 0  # every crop covers >= 20 % of the frame, the box 25 %
    losses = model.loss(views, samples)
    with torch.no_grad():
        mixed = model.neck(model.backbone(views[4]), 1)
        expected = model.head['motion'].loss(mixed, labels)['loss']
    assert losses['motion.loss'].item() == pytest.approx(expected.item(), rel=1e-5)
    losses['motion.loss'].backward()
    assert model.neck.alpha.grad[1].abs().min() > 0 and model.neck.alpha.grad[0].abs().max() == 0
    with pytest.raises(ValueError, match='MultiTaskLasso task motion needs motion_label'):
        model.loss(views, [DataSample(pretext_label=s.pretext_label) for s in samples])
