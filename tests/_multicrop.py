"""Tiny real runs of the multi-crop demo configs (SwAV, DINO) for the tests."""
import os.path as osp
import uuid

from mmengine.config import Config
from mmengine.runner import Runner

from tests._helpers import REPO_ROOT

SWAV_DEMO = osp.join(REPO_ROOT,
                     'configs/swav/swav_resnet18-mcrop2x24-6x12_1xb256-coslr-2e_fmnist.py')
DINO_DEMO = osp.join(REPO_ROOT,
                     'configs/dino/dino_resnet18-mcrop2x24-4x12_1xb256-coslr-2e_fmnist.py')


def tiny_demo_runner(config: str, work_dir: str, custom_hooks: list, images: int = 16,
                     batch: int = 8, epochs: int = 2, **overrides) -> Runner:
    """A Runner of a demo config on ``images`` Fashion-MNIST images, without the kNN hook."""
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(dict(
        work_dir=work_dir,
        experiment_name=f'test-{uuid.uuid4().hex[:12]}',
        train_dataloader=dict(dataset=dict(indices=images), batch_size=batch, num_workers=0,
                              persistent_workers=False),
        train_cfg=dict(max_epochs=epochs),
        param_scheduler=[dict(type='CosineAnnealingLR', T_max=epochs, by_epoch=True, begin=0,
                              end=epochs, convert_to_iter_based=True)],
        custom_hooks=custom_hooks,
        default_hooks=dict(logger=dict(interval=1),
                           checkpoint=dict(interval=1, max_keep_ckpts=1)),
        log_level='WARNING'))
    cfg.merge_from_dict(overrides)
    return Runner.from_cfg(cfg)
