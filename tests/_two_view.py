"""Helpers of the two-view algorithm tests (BYOL, SimSiam, Barlow Twins, MoCo v3): tiny
parts, a few training iterations of a Fashion-MNIST demo config, and target networks
that differ from their online networks (for every momentum algorithm's loss test)."""
import os.path as osp
import uuid

import torch
from mmengine.config import Config
from mmengine.runner import Runner

from tests._helpers import REPO_ROOT

# Inputs are already normalised random views.
PLAIN_PREPROCESSOR = dict(mean=[0, 0, 0], std=[1, 1, 1], to_rgb=False)


def tiny_resnet() -> dict:
    """ResNet-18 with the CIFAR stem at width 8: 64-d features, fast at 16 px."""
    return dict(type='ResNet_CIFAR', depth=18, stem_channels=8, base_channels=8,
                out_indices=(3,), norm_cfg=dict(type='BN'))


def tiny_vit() -> dict:
    """mmpretrain's MoCoV3ViT with 2 blocks of width 32, 32 px images in 8-px patches."""
    return dict(type='MoCoV3ViT', arch=dict(embed_dims=32, num_layers=2, num_heads=2,
                                            feedforward_channels=64),
                img_size=32, patch_size=8, stop_grad_conv1=True)


def mlp(in_channels: int, hidden: int, out_channels: int, **kwargs) -> dict:
    """A NonLinearNeck with plain BN; ``with_avg_pool`` False unless given."""
    kwargs.setdefault('with_avg_pool', False)
    return dict(type='NonLinearNeck', in_channels=in_channels, hid_channels=hidden,
                out_channels=out_channels, norm_cfg=dict(type='BN1d'), **kwargs)


def perturb_targets(model, scale: float = 0.1, seed: int = 0) -> None:
    """Add Gaussian noise to every parameter of the target (momentum) networks of a
    :class:`MomentumSelfSupervisor`, std ``scale`` times the parameter's RMS (``scale``
    where it is all zeros).

    Right after build the targets are exact copies of the online networks, so a loss that
    took its keys/targets from the online networks would still match a re-computation
    with the targets; after this it no longer does. Uses its own generator (the global
    RNG is left as it is).
    """
    gen = torch.Generator().manual_seed(seed)
    pairs = model.momentum_pairs()
    assert pairs, f'{type(model).__name__} has no target network to perturb'
    with torch.no_grad():
        for online, target in pairs:
            for param, online_param in zip(target.parameters(), online.parameters()):
                rms = float(param.pow(2).mean().sqrt()) or 1.0
                param.add_(torch.randn(param.shape, generator=gen) * (scale * rms))
                assert not torch.equal(param, online_param)


def demo_config(relpath: str) -> Config:
    """The config at ``configs/<relpath>``, checked to be a demo as the conventions ask."""
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', relpath))
    assert cfg.train_cfg.max_epochs == 2
    assert cfg.model.backbone.type == 'ResNet_CIFAR' and cfg.model.backbone.base_channels == 16
    knn = [hook for hook in cfg.custom_hooks if hook['type'] == 'KNNEvalHook']
    assert len(knn) == 1 and knn[0]['before_train']
    return cfg


def train_demo(relpath: str, work_dir: str, images: int = 24, batch: int = 8) -> Runner:
    """A runner of the demo config trained for ``images // batch`` iterations (one epoch,
    the kNN hook left out) on the first ``images`` training images; returned after training.
    """
    cfg = demo_config(relpath)
    cfg.merge_from_dict(dict(
        work_dir=work_dir,
        experiment_name=f'test-{uuid.uuid4().hex[:12]}',
        train_dataloader=dict(dataset=dict(indices=images), batch_size=batch, num_workers=0,
                              persistent_workers=False),
        train_cfg=dict(max_epochs=1),
        default_hooks=dict(logger=dict(interval=1), checkpoint=dict(interval=1)),
        log_level='WARNING'))
    cfg.custom_hooks = [hook for hook in cfg.custom_hooks if hook['type'] != 'KNNEvalHook']
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner
