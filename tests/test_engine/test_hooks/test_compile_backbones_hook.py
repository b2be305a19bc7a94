"""compile_backbones: each backbone (online and momentum) compiled in place, each running its
own weights, with the state-dict keys unchanged. The 'eager' backend keeps the test fast."""
import torch

from mmssl.registry import MODELS
from tests._helpers import resnet18


def test_online_and_momentum_backbones_compile_separately_and_keep_their_keys():
    model = MODELS.build(dict(
        type='MoCo', backbone=resnet18(), ema_momentum=0.99,
        neck=dict(type='MoCoV2Neck', in_channels=512, hid_channels=32, out_channels=16),
        head=dict(type='InfoNCEHead', temperature=0.2),
        dictionary=dict(type='QueueKeys', queue_length=16, dim=16)))
    model.init_weights()
    with torch.no_grad():  # make the two backbones differ
        for p in model.momentum_backbone.parameters():
            p.add_(0.1)
    keys = list(model.state_dict())
    x = torch.randn(2, 3, 32, 32)
    model.eval()
    expected = [model.backbone(x)[-1], model.momentum_backbone(x)[-1]]
    assert model.compile_backbones(backend='eager') == ['backbone', 'momentum_backbone']
    assert list(model.state_dict()) == keys
    got = [model.backbone(x)[-1], model.momentum_backbone(x)[-1]]
    for e, g in zip(expected, got):
        torch.testing.assert_close(g, e)
    assert not torch.allclose(got[0], got[1])
