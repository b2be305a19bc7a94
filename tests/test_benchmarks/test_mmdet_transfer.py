"""Detection transfer: mmdet builds every benchmark config and loads an mmssl backbone into
it, and a real Mask R-CNN fine-tune runs on the labelme-examples photos (Debian package)."""
import glob
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmssl.utils.checkpoint_export import extract_backbone_file
from mmssl.utils.checkpoint_loading import load_state_dict_file
from tests._helpers import REPO_ROOT, build_initialised_model
from tests._helpers import run_python as _run
from tests._helpers import scalars_json_rows as _scalars

DET_CONFIGS = sorted(glob.glob(osp.join(REPO_ROOT, 'configs/benchmarks/mmdetection/*/*.py')))
LABELME_IMAGES = ('/usr/share/doc/labelme-examples/examples/instance_segmentation/'
                  'data_dataset_coco/JPEGImages')
SHARED_RES5 = 'roi_head.shared_head.'


def _fake_mmssl_checkpoint(path: str, depth: int) -> dict:
    """An mmssl-layout checkpoint of an mmpretrain ResNet: online backbone and a decoy
    momentum copy, all tensors random so that a load is told apart from an init."""
    from mmpretrain.models import ResNet
    gen = torch.Generator().manual_seed(depth)
    backbone = {k: (torch.rand(v.shape, generator=gen) + 0.5 if v.is_floating_point() else v)
                for k, v in ResNet(depth=depth).state_dict().items()}
    state = {f'backbone.{k}': v for k, v in backbone.items()}
    state.update({f'momentum_backbone.{k}': v + 1 for k, v in backbone.items()})
    torch.save({'state_dict': state, 'meta': {}}, path)
    return backbone


def _assert_backbone_loaded(model, backbone: dict) -> None:
    """Every backbone tensor of the detector (and the C4 box head's res5) comes from
    ``backbone``; every ``backbone`` tensor went somewhere; the rest are heads."""
    used = set()
    for name, value in model.state_dict().items():
        if name.startswith('backbone.'):
            source = name[len('backbone.'):]
        elif name.startswith(SHARED_RES5 + 'layer'):
            source = name[len(SHARED_RES5):]
        else:
            assert name.split('.')[0] in ('neck', 'rpn_head', 'roi_head'), name
            continue
        assert source in backbone, f'{name}: not in the checkpoint (missing key)'
        assert torch.equal(value, backbone[source]), f'{name}: not loaded from the checkpoint'
        used.add(source)
    assert used == set(backbone), sorted(set(backbone) - used)[:5]


def _fake_mmssl_vit_checkpoint(path: str, backbone_cfg: dict) -> dict:
    """An mmssl-layout checkpoint of a ViT like ``backbone_cfg`` (MaskedViT's state dict is
    mmpretrain's VisionTransformer's), random tensors, with a decoy decoder."""
    from mmpretrain.models import VisionTransformer
    vit = VisionTransformer(arch=backbone_cfg['arch'], img_size=backbone_cfg['img_size'],
                            patch_size=backbone_cfg['patch_size'])
    gen = torch.Generator().manual_seed(7)
    backbone = {k: torch.rand(v.shape, generator=gen) + 0.5 for k, v in vit.state_dict().items()}
    state = {f'backbone.{k}': v for k, v in backbone.items()}
    state['neck.decoder_pos_embed'] = torch.zeros(1, 4, 8)
    torch.save({'state_dict': state, 'meta': {}}, path)
    return backbone


@pytest.fixture(scope='module')
def pretrained(tmp_path_factory):
    """Converted backbone files of random ResNet-50 and ResNet-18 mmssl checkpoints."""
    folder = tmp_path_factory.mktemp('pretrained')
    files = {}
    for depth in (18, 50):
        raw = str(folder / f'r{depth}_mmssl.pth')
        backbone = _fake_mmssl_checkpoint(raw, depth)
        extract_backbone_file(raw, str(folder / f'r{depth}_backbone.pth'))
        files[depth] = (str(folder / f'r{depth}_backbone.pth'), backbone)
    return files


def test_the_detection_configs_exist():
    names = {osp.relpath(p, osp.join(REPO_ROOT, 'configs/benchmarks/mmdetection'))
             for p in DET_CONFIGS}
    assert {'voc0712/faster-rcnn_r50-c4_ms-24k_voc0712.py',
            'coco/mask-rcnn_r50-c4_ms-1x_coco.py', 'coco/mask-rcnn_r50-c4_ms-2x_coco.py',
            'coco/mask-rcnn_r50_fpn_ms-1x_coco.py',
            'coco/mask-rcnn_r50_fpn_ms-2x_coco.py',
            'coco/mask-rcnn_vit-base-p16-sfp_lsj-1x_coco.py'} <= names


@pytest.mark.parametrize('path', DET_CONFIGS, ids=[osp.basename(p) for p in DET_CONFIGS])
def test_detector_builds_and_loads_the_converted_backbone(path, pretrained, tmp_path):
    cfg = Config.fromfile(path)
    if 'VisionTransformer' in cfg.model.backbone.type:  # ViT + simple feature pyramid
        raw = str(tmp_path / 'vit_mmssl.pth')
        backbone = _fake_mmssl_vit_checkpoint(raw, cfg.model.backbone)
        cfg.model.backbone.init_cfg.checkpoint = str(tmp_path / 'vit_backbone.pth')
        extract_backbone_file(raw, cfg.model.backbone.init_cfg.checkpoint)
        _assert_backbone_loaded(build_initialised_model(cfg, 'mmdet'), backbone)
        return
    depth = cfg.model.backbone.depth
    checkpoint, backbone = pretrained[depth]
    cfg.model.backbone.init_cfg.checkpoint = checkpoint
    if 'shared_head' in cfg.model.roi_head:  # C4: res5 sits in the RoI head
        cfg.model.roi_head.shared_head.init_cfg.checkpoint = checkpoint
    if depth == 50:  # the MoCo protocol: nothing frozen, SyncBN fine-tuned
        assert cfg.model.backbone.frozen_stages == -1 and not cfg.model.backbone.norm_eval
        assert cfg.model.backbone.norm_cfg.type == 'SyncBN'
    model = build_initialised_model(cfg, 'mmdet')
    _assert_backbone_loaded(model, backbone)


VIT_COCO = osp.join(REPO_ROOT,
                    'configs/benchmarks/mmdetection/coco/mask-rcnn_vit-base-p16-sfp_lsj-1x_coco.py')


def test_coco_vit_config_takes_a_224px_vit_and_decays_the_lr_by_layer(tmp_path):
    """The COCO ViT-B/16 detector (target-data-only recipe): a ViT pretrained at 224 px
    loads into the 1024-px backbone (position embedding interpolated, the rest as is), and
    the custom keys give block i lr x 0.75 ** (12 - i), the embeddings 0.75 ** 13, the
    final norm, pyramid and heads the full lr; no weight decay on norms and pos_embed."""
    from mmengine.optim import build_optim_wrapper
    from mmpretrain.models.utils import resize_pos_embed
    cfg = Config.fromfile(VIT_COCO)
    backbone_cfg = cfg.model.backbone
    assert (backbone_cfg.arch, backbone_cfg.img_size, backbone_cfg.patch_size) == ('b', 1024, 16)
    assert cfg.model.neck.type == 'SimpleFeaturePyramid' and cfg.model.neck.in_channels == 768
    assert cfg.train_dataloader.dataset.type == 'CocoDataset'  # once per epoch, no repeat
    assert [t.type for t in cfg.train_dataloader.dataset.pipeline][2:4] == [
        'RandomResize', 'RandomCrop']  # large-scale jitter
    assert cfg.train_cfg.max_epochs == 12 and cfg.param_scheduler[1].milestones == [8, 11]
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.type, optimizer.lr, optimizer.weight_decay) == ('AdamW', 1e-4, 0.1)

    # The same 12 blocks, narrow, so that the detector builds in seconds on a CPU.
    small = dict(embed_dims=64, num_layers=12, num_heads=2, feedforward_channels=128)
    raw = str(tmp_path / 'vit_mmssl.pth')
    pre = _fake_mmssl_vit_checkpoint(raw, dict(arch=small, img_size=224, patch_size=16))
    backbone_cfg.arch = small
    backbone_cfg.init_cfg.checkpoint = str(tmp_path / 'vit_backbone.pth')
    extract_backbone_file(raw, backbone_cfg.init_cfg.checkpoint)
    cfg.model.neck.in_channels = 64
    model = build_initialised_model(cfg, 'mmdet')
    state = model.backbone.state_dict()
    assert state['pos_embed'].shape == (1, 1 + 64 * 64, 64)
    assert torch.allclose(state['pos_embed'],
                          resize_pos_embed(pre['pos_embed'], (14, 14), (64, 64), 'bicubic', 1))
    assert all(torch.equal(state[k], v) for k, v in pre.items() if k != 'pos_embed')

    cfg.optim_wrapper.type = 'OptimWrapper'  # AmpOptimWrapper needs a GPU
    with DefaultScope.overwrite_default_scope('mmdet'):
        optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    names = {id(p): n for n, p in model.named_parameters()}
    groups = {names[id(g['params'][0])]: (g['lr'] / 1e-4, g['weight_decay'])
              for g in optim_wrapper.optimizer.param_groups}
    assert len(groups) == len(names)
    norms = {f'{module_name}.{name}' for module_name, module in model.named_modules()
             if isinstance(module, torch.nn.LayerNorm)
             for name, _ in module.named_parameters(recurse=False)}
    assert any(name.startswith('roi_head.') for name in norms)  # LN in the heads too
    for name, (lr_mult, decay) in groups.items():
        if name.startswith('backbone.layers.'):
            depth = int(name.split('.')[2]) + 1
        elif name.split('.')[1] in ('cls_token', 'pos_embed', 'patch_embed'):
            depth = 0
        else:  # the final norm, the pyramid, the heads
            depth = 13
        assert lr_mult == pytest.approx(0.75 ** (13 - depth)), name
        no_decay = name in norms or name.endswith(('pos_embed', 'cls_token'))
        assert decay == (0.0 if no_decay else 0.1), name


LABELME_ONLY = pytest.mark.skipif(not osp.isdir(LABELME_IMAGES),
                                  reason='Debian package labelme-examples not installed '
                                  '(tools/setup_env.sh installs it)')


def _pretrain_on_labelme(config: str, tmp_path, times: int) -> tuple[str, dict, str]:
    """Pretrain on the photos (``times`` x 3 images, batch 8), extract the backbone.
    Returns the checkpoint, its state dict and the backbone file."""
    pre_dir = str(tmp_path / 'pretrain')
    _run('tools/train.py', config, '--work-dir', pre_dir, '--cfg-options',
         f'train_dataloader.dataset.times={times}', 'train_dataloader.num_workers=0',
         cwd=REPO_ROOT)
    checkpoint, backbone_file = osp.join(pre_dir, 'epoch_1.pth'), str(tmp_path / 'backbone.pth')
    _run('tools/model_converters/extract_backbone.py', checkpoint, backbone_file, cwd=REPO_ROOT)
    return checkpoint, load_state_dict_file(checkpoint), backbone_file


def _finetune_on_labelme(config: str, backbone_file: str, tmp_path, iters: int) -> list[dict]:
    """Fine-tune ``config`` from ``backbone_file`` for ``iters`` iterations, evaluate with
    mmdet's COCO metric; check the detector's backbone is the file's; the logged rows."""
    det_dir = str(tmp_path / 'det')
    _run('tools/dataset_converters/prepare_labelme_examples.py', '--out',
         str(tmp_path / 'labelme'), cwd=REPO_ROOT)
    ann_file = str(tmp_path / 'labelme' / 'annotations.json')
    _run('tools/train.py', config, '--work-dir', det_dir, '--cfg-options',
         f'model.backbone.init_cfg.checkpoint={backbone_file}',
         f'train_dataloader.dataset.ann_file={ann_file}',
         f'val_dataloader.dataset.ann_file={ann_file}', f'val_evaluator.ann_file={ann_file}',
         f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
         # After a few iterations no box may score above mmdet's 0.05, and the COCO metric
         # then returns nothing ("the testing results of the whole dataset is empty").
         'model.test_cfg.rcnn.score_thr=0.0',
         'default_hooks.logger.interval=2', cwd=REPO_ROOT)
    rows = _scalars(det_dir)
    losses = [row['loss'] for row in rows if 'loss' in row]
    # logged at iteration 1 and every 2 iterations
    assert len(losses) == iters // 2 + 1 and all(math.isfinite(x) for x in losses), losses
    assert sum(losses[-2:]) < sum(losses[:2]), losses
    (metrics,) = [row for row in rows if 'coco/bbox_mAP' in row]
    for key in ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/segm_mAP', 'coco/segm_mAP_50'):
        assert 0.0 <= metrics[key] <= 1.0, (key, metrics)
    return build_initialised_model(
        Config.fromfile(osp.join(det_dir, osp.basename(config))), 'mmdet')


def _backbone_of(state: dict) -> dict:
    return {k[len('backbone.'):]: v for k, v in state.items() if k.startswith('backbone.')}


@LABELME_ONLY
def test_labelme_mask_rcnn_from_an_mmssl_pretrained_backbone(tmp_path):
    """Pretrain (MoCo v2, 3 iterations on the photos), extract the backbone, fine-tune Mask
    R-CNN R18-FPN a few iterations and evaluate bbox and segm with mmdet's COCO metric."""
    _, state, backbone_file = _pretrain_on_labelme(
        'configs/mocov2/mocov2_resnet18_1xb8-coslr-1e_labelme.py', tmp_path, times=8)
    model = _finetune_on_labelme(
        'configs/benchmarks/mmdetection/labelme/mask-rcnn_r18_fpn_1xb3-40i_labelme.py',
        backbone_file, tmp_path, iters=8)
    # The detector's backbone is the pretrained online encoder, not the key encoder.
    _assert_backbone_loaded(model, _backbone_of(state))
    assert not torch.equal(state['backbone.conv1.weight'], state['momentum_backbone.conv1.weight'])


@LABELME_ONLY
def test_labelme_vit_mask_rcnn_from_splitmask_pretrained_on_the_same_photos(tmp_path):
    """The target-data-only recipe: SplitMask ViT-tiny pretrained on the photos alone (3
    iterations), then Mask R-CNN with that ViT and a simple feature pyramid on the same
    photos, evaluated with mmdet's COCO metric; the detector's ViT is the pretrained one."""
    _, state, backbone_file = _pretrain_on_labelme(
        'configs/splitmask/splitmask_vit-tiny-p16_1xb8-coslr-1e_labelme.py', tmp_path, times=8)
    model = _finetune_on_labelme(
        'configs/benchmarks/mmdetection/labelme/mask-rcnn_vit-tiny-p16-sfp_1xb3-40i_labelme.py',
        backbone_file, tmp_path, iters=4)
    _assert_backbone_loaded(model, _backbone_of(state))
