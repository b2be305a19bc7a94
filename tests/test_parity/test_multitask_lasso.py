"""Parity of MultiTaskLasso with multi-task self-supervision (Doersch & Zisserman 2017),
written out.

mmpretrain has no multi-task self-supervision: the reference is the paper's algorithm in
plain torch, with its four tasks (relative position, exemplar, colorization, motion
segmentation) on one shared trunk. Each task's batch passes the trunk on its own; its head
reads its lasso combination sum_l alpha[task, l] * P_l(feat_l) of the four stage outputs,
and the loss is the (weighted) sum of the task losses plus l1 * sum |alpha|.

The combination is mmssl's way of giving the stages one shape (P_l a 1 x 1 conv to C
channels and an average pooling to s x s; the paper combines blocks that already share
one): the reference writes it out as such. The vector tasks read the combination's
spatial mean, which the reference computes as the alpha-weighted sum of the globally
pooled projections (equal, as the pooling bins tile each stage evenly). Both sides take
the same prepared views and labels.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample
from torch import Tensor, nn

from tests._two_view import tiny_resnet
from tests.test_parity._pretext import (PIXEL_CLASSIFIER_KEYS, PixelClassifier,
                                        build_model, check_parity, copied_backbone,
                                        global_pool, moving_pixel_bce, prefix_rules,
                                        rebalanced_nll)


STAGES = (8, 16, 32, 64)  # the tiny ResNet's stage channels
WIDTH, MAP, HIDDEN, BINS = 32, 4, 16, 484
PATCH, SIZE, TARGET, BATCH = 8, 16, 8, 4
# The exemplar margin is smaller than the paper's 0.5, at which every pair of this tiny
# untrained trunk violates it: so that the hinge is active for some pairs, not for others.
MARGIN, L1_WEIGHT, COLOR_WEIGHT = 0.02, 0.01, 0.5
TASKS = ('relpos', 'exemplar', 'colorization', 'motion')  # mmssl's order of views and alpha
UNKNOWN = 255


class MultiTaskReference(nn.Module):
    """The shared trunk, the stage projections, alpha and the task heads."""

    def __init__(self, trunk: nn.Module) -> None:
        super().__init__()
        self.trunk = trunk
        self.projections = nn.ModuleList(nn.Conv2d(c, WIDTH, 1) for c in STAGES)
        self.alpha = nn.Parameter(torch.zeros(len(TASKS), len(STAGES)))
        self.relpos_fc7 = nn.Linear(2 * WIDTH, HIDDEN, bias=False)
        self.relpos_bn7 = nn.BatchNorm1d(HIDDEN)
        self.relpos_fc8 = nn.Linear(HIDDEN, 8)
        self.colorization = PixelClassifier(WIDTH, HIDDEN, BINS)
        self.motion = PixelClassifier(WIDTH, HIDDEN, 2)
        self.exemplar_active: list[float] = []  # per step, the share of active hinges

    def combined_map(self, x: Tensor, task: str) -> Tensor:
        """(N, WIDTH, MAP, MAP): sum_l alpha[task, l] * pool(P_l(stage_l(x)))."""
        alpha = self.alpha[TASKS.index(task)]
        return sum(a * F.adaptive_avg_pool2d(project(feat), MAP)
                   for a, project, feat in zip(alpha, self.projections, self.trunk(x)))

    def combined_vector(self, x: Tensor, task: str) -> Tensor:
        """(N, WIDTH): sum_l alpha[task, l] * the spatial mean of P_l(stage_l(x))."""
        alpha = self.alpha[TASKS.index(task)]
        return sum(a * global_pool(project(feat))
                   for a, project, feat in zip(alpha, self.projections, self.trunk(x)))

    def relpos_loss(self, patches: list[Tensor], labels: Tensor) -> Tensor:
        """Cross-entropy of the 8 positions from the two patches' concatenated features."""
        n = patches[0].shape[0]
        feats = self.combined_vector(torch.cat(patches), 'relpos')  # (2N, C), view-major
        pairs = torch.cat([feats[:n], feats[n:]], dim=1)
        logits = self.relpos_fc8(F.relu(self.relpos_bn7(self.relpos_fc7(pairs))))
        return F.cross_entropy(logits, labels)

    def exemplar_loss(self, views: list[Tensor]) -> Tensor:
        """The triplet ranking loss with cosine distance: view 1 of image i against view 2
        of image i (positive) and of every other image j (negatives)."""
        n = views[0].shape[0]
        query, key = self.combined_vector(torch.cat(views), 'exemplar').split(n)
        distance = 1 - F.cosine_similarity(query[:, None], key[None], dim=2)  # (N, N)
        hinge = F.relu(distance.diagonal()[:, None] - distance + MARGIN)
        pairs = hinge[~torch.eye(n, dtype=torch.bool)]
        self.exemplar_active.append((pairs > 0).float().mean().item())
        return pairs.mean()

    def colorization_loss(self, view: Tensor, labels: Tensor) -> Tensor:
        """Per-pixel cross-entropy of the ab bins (no rebalancing) from the combined map."""
        logits = self.colorization(self.combined_map(view, 'colorization'), labels.shape[-1])
        return rebalanced_nll(logits, labels, None, 'pixels')

    def motion_loss(self, view: Tensor, masks: Tensor) -> Tensor:
        """Per-pixel "moves" cross-entropy over the known pixels from the combined map."""
        logits = self.motion(self.combined_map(view, 'motion'), masks.shape[-1])
        return moving_pixel_bce(logits, masks, UNKNOWN)


def make_batch(seed: int) -> dict:
    """One batch of every task's prepared views and labels."""
    gen = torch.Generator().manual_seed(seed)
    masks = torch.randint(0, 2, (BATCH, TARGET, TARGET), generator=gen)
    masks[-1] = UNKNOWN  # a still image
    return dict(
        relpos=[torch.randn(BATCH, 3, PATCH, PATCH, generator=gen) for _ in range(2)],
        relpos_labels=torch.randint(0, 8, (BATCH,), generator=gen),
        exemplar=[torch.randn(BATCH, 3, SIZE, SIZE, generator=gen) for _ in range(2)],
        colorization=torch.randn(BATCH, 3, SIZE, SIZE, generator=gen),
        ab_labels=torch.randint(0, 40, (BATCH, TARGET, TARGET), generator=gen) * 12,
        motion=torch.randn(BATCH, 3, SIZE, SIZE, generator=gen), motion_labels=masks)


def as_mmssl_batch(batch: dict) -> tuple[list[Tensor], list[DataSample]]:
    """The views in the order of the tasks, and data samples as ``MultiTaskViews`` and
    ``PackInputs`` give them."""
    views = batch['relpos'] + batch['exemplar'] + [batch['colorization'], batch['motion']]
    samples = [DataSample(pretext_label=dict(relpos=np.array([label])), ab_label=ab,
                          motion_label=mask)
               for label, ab, mask in zip(batch['relpos_labels'].tolist(),
                                          batch['ab_labels'], batch['motion_labels'])]
    return views, samples


def multitask_loss(model: MultiTaskReference, batch: dict, active: list[str]) -> Tensor:
    """The active tasks' losses (colorization's weighted) plus the lasso penalty."""
    losses = dict(
        relpos=lambda: model.relpos_loss(batch['relpos'], batch['relpos_labels']),
        exemplar=lambda: model.exemplar_loss(batch['exemplar']),
        colorization=lambda: COLOR_WEIGHT * model.colorization_loss(batch['colorization'],
                                                                    batch['ab_labels']),
        motion=lambda: model.motion_loss(batch['motion'], batch['motion_labels']))
    return sum(losses[task]() for task in active) + L1_WEIGHT * model.alpha.abs().sum()


@pytest.mark.parametrize('schedule', ['mixed', 'round_robin'])
def test_multitask_lasso_matches_the_papers_four_tasks(schedule):
    model = build_model(dict(
        type='MultiTaskLasso', backbone=dict(tiny_resnet(), out_indices=(0, 1, 2, 3)),
        neck=dict(type='LassoCombination', in_channels=list(STAGES), out_channels=WIDTH,
                  num_tasks=len(TASKS), out_size=MAP),
        tasks=dict(
            relpos=dict(type='ClassificationTask', num_views=2, views_per_group=2, head=dict(
                type='PretextClsHead', in_channels=WIDTH, num_classes=8, num_parts=2,
                hid_channels=[HIDDEN], with_bn=True)),
            exemplar=dict(type='ExemplarTask', num_views=2,
                          head=dict(type='TripletRankingHead', margin=MARGIN)),
            colorization=dict(type='ColorizationTask', num_views=1, loss_weight=COLOR_WEIGHT,
                              head=dict(type='ColorizationHead', in_channels=WIDTH,
                                        num_bins=BINS, hid_channels=HIDDEN)),
            motion=dict(type='MotionSegmentationTask', num_views=1, head=dict(
                type='DenseClsHead', in_channels=WIDTH, num_classes=2,
                hid_channels=HIDDEN, ignore_index=UNKNOWN))),
        l1_weight=L1_WEIGHT, schedule=schedule))
    reference = MultiTaskReference(copied_backbone(model))
    steps = 3 if schedule == 'mixed' else len(TASKS)  # round robin: every task's turn
    batches = [make_batch(seed) for seed in range(steps)]
    turns = iter(range(steps))

    def reference_loss(net: MultiTaskReference, batch: dict) -> Tensor:
        """Every task each step ('mixed'), or task ``step % 4`` ('round_robin')."""
        step = next(turns)
        return multitask_loss(net, batch, list(TASKS) if schedule == 'mixed'
                              else [TASKS[step % len(TASKS)]])

    rules = prefix_rules([
        ('backbone.', 'trunk.'), ('neck.projections.', 'projections.'),
        ('neck.alpha', 'alpha'), ('head.relpos.hid_layers.0.', 'relpos_fc7.'),
        ('head.relpos.hid_layers.1.', 'relpos_bn7.'), ('head.relpos.fc.', 'relpos_fc8.')]
        + [(f'head.{task}.{a}', f'{task}.{b}') for task in ('colorization', 'motion')
           for a, b in PIXEL_CLASSIFIER_KEYS])
    check_parity(model, reference, [as_mmssl_batch(b) for b in batches], batches,
                 reference_loss, rules, ignore=(r'step$',))
    assert all(0 < share < 1 for share in reference.exemplar_active), reference.exemplar_active
