import pytest
import torch
import torch.nn.functional as F

from mmssl.models.heads import DINOHead, DINONeck
from mmssl.models.losses import dino_loss
from tests._dist import run_distributed


def test_neck_shapes_pooling_and_unit_norm_last_layer():
    torch.manual_seed(0)
    neck = DINONeck(in_channels=8, hidden_channels=16, bottleneck_channels=4, out_channels=10)
    maps = [(torch.randn(6, 8, 3, 3),), (torch.randn(9, 8, 2, 2),)]  # two resolution runs
    out = neck(maps)
    assert out.shape == (15, 10)
    pooled = torch.cat([maps[0][0].mean(dim=(2, 3)), maps[1][0].mean(dim=(2, 3))])
    hidden = F.normalize(neck.mlp(pooled), dim=1)
    weight = neck.last_layer.weight / neck.last_layer.weight.norm(dim=1, keepdim=True)
    torch.testing.assert_close(out, hidden @ weight.t())
    # ViT class tokens (N, C) are used as they are.
    torch.testing.assert_close(neck([(pooled,)]), out)
    # norm_last_layer: the row norms stay 1 and are not trained.
    assert not neck.last_layer.norm.requires_grad
    assert DINONeck(8, norm_last_layer=False, out_channels=10).last_layer.norm.requires_grad
    layers = [type(m).__name__ for m in neck.mlp]
    assert layers == ['Linear', 'GELU', 'Linear', 'GELU', 'Linear']


def test_loss_uses_the_centre_then_updates_it_by_ema():
    torch.manual_seed(0)
    head = DINOHead(out_channels=5, student_temperature=0.1, center_momentum=0.9)
    assert 'center' in head.state_dict()  # saved in checkpoints
    head.center.copy_(torch.randn(1, 5))
    old_center = head.center.clone()
    student = [torch.randn(3, 5) for _ in range(4)]
    teacher = [torch.randn(3, 5) for _ in range(2)]
    loss = head.loss(student, teacher, teacher_temperature=0.04)
    assert loss.item() == pytest.approx(
        dino_loss(student, teacher, old_center, 0.1, 0.04).item())
    mean = sum(t.sum(dim=0) for t in teacher) / 6
    torch.testing.assert_close(head.center, 0.9 * old_center + 0.1 * mean.view(1, 5))


def _center_on_rank(rank, world_size, teacher):
    head = DINOHead(out_channels=teacher.shape[1], center_momentum=0.9)
    rows = teacher.shape[0] // world_size
    head.update_center(teacher[rank * rows:(rank + 1) * rows])
    return head.center


@pytest.mark.dist
def test_two_processes_update_the_centre_with_the_global_batch_mean():
    teacher = torch.randn(8, 5, generator=torch.Generator().manual_seed(0))
    centers = run_distributed(_center_on_rank, 2, teacher)
    for center in centers:
        torch.testing.assert_close(center, 0.1 * teacher.mean(dim=0, keepdim=True))
