"""mmssl/models/heads/pretext_heads.py."""
import pytest
import torch
import torch.nn.functional as F

from mmssl.models.losses import counting_loss
from mmssl.registry import MODELS


def test_cls_head_shares_the_part_layers_and_concatenates_in_order():
    torch.manual_seed(0)
    head = MODELS.build(dict(type='PretextClsHead', in_channels=4, num_classes=5, num_parts=3,
                             part_channels=[6], hid_channels=[7], with_bn=False))
    feats = torch.randn(2, 3, 4)
    logits = head(feats)
    assert logits.shape == (2, 5)
    part = head.part_layers(feats.reshape(6, 4)).reshape(2, 18)
    manual = torch.cat([head.part_layers(feats[:, g]) for g in range(3)], dim=1)
    assert torch.allclose(part, manual)
    assert torch.allclose(logits, head.fc(head.hid_layers(manual)))
    with pytest.raises(ValueError, match=r'expected features \(B, 3, C\)'):
        head(torch.randn(2, 2, 4))


def test_cls_head_loss_is_cross_entropy_with_accuracy():
    torch.manual_seed(0)
    head = MODELS.build(dict(type='PretextClsHead', in_channels=4, num_classes=3))
    feats, labels = torch.randn(8, 1, 4), torch.randint(3, (8,))
    out = head.loss(feats, labels)
    logits = head(feats)
    assert out['loss'].item() == pytest.approx(F.cross_entropy(logits, labels).item())
    assert out['acc'].item() == pytest.approx(
        (logits.argmax(1) == labels).float().mean().item() * 100)


def test_counting_head_is_non_negative_and_uses_its_margin():
    torch.manual_seed(0)
    head = MODELS.build(dict(type='CountingHead', in_channels=4, count_channels=5,
                             hid_channels=[8], margin=3.0))
    counts = head(torch.randn(10, 4))
    assert counts.shape == (10, 5) and (counts >= 0).all() and (counts == 0).any()
    d, t, o = torch.rand(2, 5), torch.rand(2, 4, 5), torch.rand(2, 5)
    assert head.loss(d, t, o)['loss'].item() == pytest.approx(
        counting_loss(d, t, o, 3.0).item())


def test_counting_head_last_bn_keeps_every_count_alive_in_training():
    torch.manual_seed(0)
    head = MODELS.build(dict(type='CountingHead', in_channels=4, count_channels=5,
                             with_last_bn=True))
    with torch.no_grad():
        head.fc.bias.fill_(-100.0)  # a plain ReLU head would output only zeros now
        counts = head(torch.randn(16, 4))
    assert (counts >= 0).all() and (counts > 0).any(dim=0).all()
    assert not any(p.requires_grad for p in head.last_bn.parameters())


def test_colorization_head_upsamples_and_weights_the_bins():
    torch.manual_seed(0)
    head = MODELS.build(dict(type='ColorizationHead', in_channels=4, num_bins=6,
                             hid_channels=8))
    feat, labels = torch.randn(2, 4, 3, 3), torch.randint(6, (2, 6, 6))
    logits = head(feat, (6, 6))
    assert logits.shape == (2, 6, 6, 6)
    out = head.loss(feat, labels)
    assert out['loss'].item() == pytest.approx(F.cross_entropy(logits, labels).item())
    weights = [0.0, 1.0, 2.0, 1.0, 1.0, 3.0]
    weighted = MODELS.build(dict(type='ColorizationHead', in_channels=4, num_bins=6,
                                 hid_channels=8, class_weights=weights))
    weighted.load_state_dict(head.state_dict())
    # Zhang et al.: sum of w[q] * CE over the pixels, divided by the pixel count
    expected = F.cross_entropy(logits, labels, weight=torch.tensor(weights),
                               reduction='sum') / labels.numel()
    assert weighted.loss(feat, labels)['loss'].item() == pytest.approx(expected.item())
    weighted_mean = F.cross_entropy(logits, labels, weight=torch.tensor(weights))
    assert expected.item() != pytest.approx(weighted_mean.item())  # not PyTorch's mean
    with pytest.raises(ValueError, match='class_weights has 2 values for 6 classes'):
        MODELS.build(dict(type='ColorizationHead', in_channels=4, num_bins=6,
                          class_weights=[1.0, 2.0]))


def test_dense_head_ignores_unlabelled_pixels():
    """Motion segmentation's targets: 0/1 per pixel, ``ignore_index`` where no mask."""
    torch.manual_seed(0)
    head = MODELS.build(dict(type='DenseClsHead', in_channels=4, num_classes=2,
                             hid_channels=8, ignore_index=255))
    feat, labels = torch.randn(3, 4, 4, 4), torch.randint(2, (3, 4, 4))
    labels[1] = 255  # an image without a motion mask
    labels[0, :2] = 255
    logits = head(feat, (4, 4))
    valid = labels != 255
    expected = F.cross_entropy(logits.permute(0, 2, 3, 1)[valid], labels[valid])
    out = head.loss(feat, labels)
    assert out['loss'].item() == pytest.approx(expected.item(), rel=1e-5)
    hits = (logits.argmax(dim=1) == labels)[valid].float().mean().item() * 100
    assert out['acc'].item() == pytest.approx(hits, rel=1e-5)
    # a batch without any target trains nothing: loss 0, finite zero gradients
    out = head.loss(feat, torch.full_like(labels, 255))
    out['loss'].backward()
    assert out['loss'].item() == 0 and out['acc'].item() == 0
    assert all(torch.isfinite(p.grad).all() for p in head.parameters() if p.grad is not None)
    weights = [1.0, 3.0]
    weighted = MODELS.build(dict(type='DenseClsHead', in_channels=4, num_classes=2,
                                 hid_channels=8, ignore_index=255, class_weights=weights))
    weighted.load_state_dict(head.state_dict())
    expected = F.cross_entropy(logits.permute(0, 2, 3, 1)[valid], labels[valid],
                               weight=torch.tensor(weights), reduction='sum') / valid.sum()
    assert weighted.loss(feat, labels)['loss'].item() == pytest.approx(expected.item(),
                                                                       rel=1e-5)
