"""Segmentation transfer: mmseg builds every benchmark config and loads an mmssl backbone
into it; the labelme converter agrees with labelme's own label maps; and a real FCN fine-tune
runs on the video frames of labelme-examples (Debian package), evaluated on held-out frames."""
import glob
import json
import math
import os
import os.path as osp
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmssl.utils.checkpoint_export import extract_backbone_file
from mmssl.utils.checkpoint_loading import load_state_dict_file
from tests._helpers import REPO_ROOT, build_initialised_model
from tests._helpers import run_python as _run
from tests._helpers import scalars_json_rows as _scalars

SEG_CONFIGS = sorted(glob.glob(osp.join(REPO_ROOT, 'configs/benchmarks/mmsegmentation/*/*.py')))
PACKAGE = '/usr/share/doc/labelme-examples/examples'
LABELME_ONLY = pytest.mark.skipif(not osp.isdir(osp.join(PACKAGE, 'video_annotation')),
                                  reason='Debian package labelme-examples not installed '
                                  '(tools/setup_env.sh installs it)')
LABELME_FCN = ('configs/benchmarks/mmsegmentation/labelme/'
               'fcn_r18-d8_1xb3-40i_labelme-video-320x180.py')
LABELME_PRETRAIN = 'configs/mocov2/mocov2_resnet18_1xb8-coslr-1e_labelme-video-train.py'
ADE20K_VIT = osp.join(REPO_ROOT, 'configs/benchmarks/mmsegmentation/ade20k/'
                      'upernet_vit-base-p16_8xb2-amp-160k_ade20k-512x512.py')

sys.path.insert(0, osp.join(REPO_ROOT, 'tools', 'dataset_converters'))
import prepare_labelme_segmentation as converter  # noqa: E402


def _random_like(state: dict, seed: int) -> dict:
    """Random tensors of ``state``'s shapes (floats in [0.5, 1.5): no init draws them)."""
    gen = torch.Generator().manual_seed(seed)
    return {k: (torch.rand(v.shape, generator=gen) + 0.5 if v.is_floating_point() else v)
            for k, v in state.items()}


def _save_mmssl(path: str, backbone: dict) -> None:
    """An mmssl training checkpoint: the online backbone and a decoy momentum copy."""
    state = {f'backbone.{k}': v for k, v in backbone.items()}
    state.update({f'momentum_backbone.{k}': v + 1 for k, v in backbone.items()
                  if v.is_floating_point()})
    torch.save({'state_dict': state, 'meta': {}}, path)


@pytest.fixture(scope='module')
def pretrained(tmp_path_factory):
    """Backbone files (extract_backbone.py's output) of random mmssl checkpoints: ResNet-18,
    ResNet-50 and a ViT-B/16 pretrained at 224 px (mmssl's MaskedViT has mmpretrain's
    VisionTransformer state dict)."""
    from mmpretrain.models import ResNet, VisionTransformer
    folder = tmp_path_factory.mktemp('pretrained')
    backbones = {18: ResNet(depth=18).state_dict(), 50: ResNet(depth=50).state_dict(),
                 'vit-b': VisionTransformer(arch='b', img_size=224, patch_size=16).state_dict()}
    files = {}
    for seed, (name, state) in enumerate(backbones.items()):
        backbone = _random_like(state, seed)
        raw, extracted = str(folder / f'{name}_mmssl.pth'), str(folder / f'{name}_backbone.pth')
        _save_mmssl(raw, backbone)
        extract_backbone_file(raw, extracted)
        files[name] = (extracted, backbone)
    return files


def _assert_resnet_loaded(model, backbone: dict) -> None:
    """Every tensor of the segmentor's backbone is the checkpoint's, and every checkpoint
    tensor went into it (mmseg's ResNet has torchvision's names, as mmpretrain's)."""
    state = model.backbone.state_dict()
    assert set(state) == set(backbone), sorted(set(state) ^ set(backbone))[:5]
    for name, value in state.items():
        assert torch.equal(value, backbone[name]), f'{name}: not loaded from the checkpoint'


def _assert_vit_loaded(model, backbone: dict) -> None:
    """mmseg's MAE backbone holds the checkpoint's ViT: the same names but for layer scale
    (ones: an mmssl ViT has none) and relative position bias (zeros: it has none either),
    the 14 x 14 position embedding resized to the backbone's grid, the final norm dropped
    (mmseg's MAE has none)."""
    from mmpretrain.models.utils import resize_pos_embed
    state = model.backbone.state_dict()
    grid = model.backbone.patch_shape
    expected = resize_pos_embed(backbone['pos_embed'], (14, 14), grid, 'bicubic', 1)
    assert torch.allclose(state['pos_embed'], expected)
    own = ('gamma_1', 'gamma_2', 'relative_position_bias_table', 'relative_position_index')
    for name, value in state.items():
        if name.endswith(own):
            continue
        if name != 'pos_embed':
            assert torch.equal(value, backbone[name]), f'{name}: not loaded from the checkpoint'
    assert all(torch.equal(v, torch.ones_like(v)) for k, v in state.items()
               if k.endswith(('gamma_1', 'gamma_2')))
    unused = {k for k in backbone if k not in state}
    assert unused == {'ln1.weight', 'ln1.bias'}, unused  # the final norm


def test_the_segmentation_configs_exist():
    names = {osp.relpath(p, osp.join(REPO_ROOT, 'configs/benchmarks/mmsegmentation'))
             for p in SEG_CONFIGS}
    assert {'voc12aug/fcn_r50-d8_4xb4-20k_voc12aug-512x512.py',
            'cityscapes/fcn_r50-d8_4xb2-40k_cityscapes-769x769.py',
            'ade20k/upernet_vit-base-p16_8xb2-amp-160k_ade20k-512x512.py',
            'labelme/fcn_r18-d8_1xb3-40i_labelme-video-320x180.py'} <= names


@pytest.mark.parametrize('path', SEG_CONFIGS, ids=[osp.basename(p) for p in SEG_CONFIGS])
def test_segmentor_builds_and_loads_the_mmssl_backbone(path, pretrained):
    cfg = Config.fromfile(path)
    assert cfg.custom_imports == dict(imports=['mmssl.seg'], allow_failed_imports=False)
    assert cfg.model.pretrained is None  # else mmseg's EncoderDecoder overrides init_cfg
    backbone_cfg = cfg.model.backbone
    assert backbone_cfg.init_cfg.type == 'mmssl.PretrainedBackbone'
    if backbone_cfg.type == 'MAE':
        checkpoint, backbone = pretrained['vit-b']
        backbone_cfg.init_cfg.checkpoint = checkpoint
        _assert_vit_loaded(build_initialised_model(cfg, 'mmseg'), backbone)
        return
    # mmseg's plain ResNet (7x7 stem, as an mmssl checkpoint), not its default ResNetV1c
    assert backbone_cfg.type == 'ResNet' and not backbone_cfg.get('deep_stem', False)
    assert backbone_cfg.frozen_stages == -1 and not backbone_cfg.norm_eval
    if backbone_cfg.depth == 50:  # the MoCo protocol: SyncBN everywhere, fine-tuned
        for part in (backbone_cfg, cfg.model.decode_head, cfg.model.auxiliary_head):
            assert part.norm_cfg.type == 'SyncBN'
    checkpoint, backbone = pretrained[backbone_cfg.depth]
    backbone_cfg.init_cfg.checkpoint = checkpoint
    _assert_resnet_loaded(build_initialised_model(cfg, 'mmseg'), backbone)


def test_ade20k_vit_decays_the_lr_by_block():
    """mmseg's layer-decay constructor on the MAE backbone: block i (0-11) at
    lr x 0.65 ** (12 - i), patch and position embedding and class token at 0.65 ** 13, the
    neck and heads at the full lr; no weight decay on norms and biases. A narrow ViT with
    the same 12 blocks, so that it builds in a second."""
    from mmengine.optim import build_optim_wrapper
    cfg = Config.fromfile(ADE20K_VIT)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.constructor == 'LearningRateDecayOptimizerConstructor'
    assert cfg.optim_wrapper.paramwise_cfg == dict(num_layers=12, decay_rate=0.65,
                                                   decay_type='layer_wise_vit')
    assert cfg.model.backbone.img_size == (512, 512) and cfg.model.backbone.num_layers == 12
    cfg.model.backbone.update(embed_dims=64, num_heads=2, init_cfg=None)
    cfg.model.neck.embed_dim = 64
    cfg.model.decode_head.update(in_channels=[64] * 4, channels=32)
    cfg.model.auxiliary_head.update(in_channels=64, channels=16)
    for part in ('decode_head', 'auxiliary_head'):
        cfg.model[part].norm_cfg = dict(type='BN', requires_grad=True)
    model = build_initialised_model(cfg, 'mmseg')
    cfg.optim_wrapper.type = 'OptimWrapper'  # AmpOptimWrapper needs a GPU
    cfg.optim_wrapper.pop('loss_scale')
    with DefaultScope.overwrite_default_scope('mmseg'):
        optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    lr = cfg.optim_wrapper.optimizer.lr
    names = {id(p): n for n, p in model.named_parameters()}
    seen = set()
    for group in optim_wrapper.optimizer.param_groups:
        for param in group['params']:
            name = names[id(param)]
            seen.add(name)
            if name.startswith('backbone.layers.'):
                depth = int(name.split('.')[2]) + 1
            elif name.split('.')[1] in ('cls_token', 'pos_embed', 'patch_embed'):
                depth = 0
            else:
                depth = 13
            assert group['lr'] == pytest.approx(lr * 0.65 ** (13 - depth)), name
            if param.ndim == 1:
                assert group['weight_decay'] == 0.0, name
    assert seen == set(names.values())


def test_dist_train_sets_the_backbone_checkpoint(tmp_path):
    """tools/benchmark/{mmsegmentation,mmdetection}/dist_train.sh: PRETRAIN into the
    backbone's init_cfg (and for mmdet's C4 configs the RoI head's res5), merged into the
    caller's --cfg-options; what they run is recorded by a stand-in python."""
    fake_python = tmp_path / 'python'
    fake_python.write_text('#!/bin/sh\necho "$@"\n')
    fake_python.chmod(0o755)
    checkpoint = tmp_path / 'backbone.pth'
    checkpoint.write_bytes(b'')
    env = dict(os.environ, PYTHON=str(fake_python))

    def run(script, config, *options):
        return subprocess.run(['bash', f'tools/benchmark/{script}/dist_train.sh', config, '2',
                               str(checkpoint), *options], cwd=REPO_ROOT, env=env,
                              capture_output=True, text=True)

    seg = run('mmsegmentation', LABELME_FCN, '--cfg-options', 'train_cfg.max_iters=4', '--amp')
    assert seg.returncode == 0, seg.stderr
    assert seg.stdout.split()[-6:] == [
        '--launcher', 'pytorch', '--cfg-options',
        f'model.backbone.init_cfg.checkpoint={checkpoint}', 'train_cfg.max_iters=4', '--amp']
    assert '--nproc_per_node=2' in seg.stdout
    det = run('mmdetection', 'configs/benchmarks/mmdetection/coco/mask-rcnn_r50-c4_ms-1x_coco.py')
    assert det.returncode == 0, det.stderr
    assert det.stdout.split()[-2:] == [
        f'model.backbone.init_cfg.checkpoint={checkpoint}',
        f'model.roi_head.shared_head.init_cfg.checkpoint={checkpoint}']
    checkpoint.unlink()
    missing = run('mmsegmentation', LABELME_FCN)
    assert missing.returncode == 1 and f'PRETRAIN file not found: {checkpoint}' in missing.stderr


# ---- the labelme converter ---------------------------------------------------------------


def _labelme_png(example: str, stem: str) -> np.ndarray:
    """labelme2voc's label map in the package (a palette PNG; __ignore__ is 255)."""
    from PIL import Image
    path = osp.join(PACKAGE, example, 'data_dataset_voc', 'SegmentationClassPNG', f'{stem}.png')
    return np.asarray(Image.open(path))


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    out = str(tmp_path_factory.mktemp('labelme_segmentation'))
    converter.prepare(PACKAGE, out)
    return out


@LABELME_ONLY
@pytest.mark.parametrize('example', sorted(converter.SPLITS))
def test_the_label_maps_are_labelmes_own(converted, example):
    """Every pixel of every label map equals the package's labelme2voc output (the same
    labels.txt order, shapes drawn in file order by PIL, __ignore__ as 255)."""
    import cv2
    stems = [osp.splitext(osp.basename(p))[0]
             for p in glob.glob(osp.join(PACKAGE, example, 'data_annotated', '*.json'))]
    assert stems
    for stem in stems:
        ours = cv2.imread(osp.join(converted, example, 'ann', f'{stem}.png'),
                          cv2.IMREAD_UNCHANGED)
        theirs = _labelme_png(example, stem)
        assert ours.dtype == np.uint8 and ours.shape == theirs.shape
        assert (ours == theirs).mean() >= AGREEMENT, (stem, (ours != theirs).sum())


AGREEMENT = 1.0


@LABELME_ONLY
def test_the_converter_writes_classes_splits_and_the_ignore_value(converted):
    video = osp.join(converted, 'video_annotation')
    with open(osp.join(video, 'classes.txt')) as f:
        assert f.read().split('\n') == ['_background_', 'car', 'track', '']
    with open(osp.join(video, 'train.txt')) as f:
        assert f.read().split() == ['00000100', '00000101', '00000102']
    with open(osp.join(video, 'val.txt')) as f:
        assert f.read().split() == ['00000103', '00000104']
    photos = osp.join(converted, 'semantic_segmentation')
    with open(osp.join(photos, 'classes.txt')) as f:
        classes = f.read().split('\n')
    assert classes[:3] == ['_background_', 'aeroplane', 'bicycle'] and len(classes) == 22
    import cv2
    label_map = cv2.imread(osp.join(photos, 'ann', '2011_000003.png'), cv2.IMREAD_UNCHANGED)
    # The photo's __ignore__ polygon is 255 (mmseg's ignore index), its person 15, bottle 5.
    assert set(np.unique(label_map)) == {0, 5, 15, converter.IGNORE_INDEX}
    npy = np.load(osp.join(PACKAGE, 'semantic_segmentation', 'data_dataset_voc',
                           'SegmentationClass', '2011_000003.npy'))
    assert ((label_map == 255) == (npy == -1)).all()


def _example_copy(tmp_path, edit) -> tuple[str, str]:
    """A copy of the video example's labels.txt and first JSON, the JSON edited by ``edit``
    (the package's images are not needed: the JSON gives the size)."""
    src = osp.join(PACKAGE, 'video_annotation')
    example = tmp_path / 'example'
    (example / 'data_annotated').mkdir(parents=True)
    shutil.copy(osp.join(src, 'labels.txt'), example / 'labels.txt')
    with open(osp.join(src, 'data_annotated', '00000100.json')) as f:
        annotation = json.load(f)
    edit(annotation)
    json_path = example / 'data_annotated' / '00000100.json'
    json_path.write_text(json.dumps(annotation))
    return str(example), str(json_path)


@LABELME_ONLY
def test_an_unknown_label_fails_naming_the_file_and_the_label(tmp_path):
    example, json_path = _example_copy(tmp_path, lambda a: a['shapes'][2].update(label='bus'))
    with pytest.raises(ValueError) as error:
        converter.convert_example(example, str(tmp_path / 'out'))
    message = str(error.value)
    assert json_path in message and "label 'bus' is not in labels.txt" in message
    assert not osp.exists(tmp_path / 'out' / 'ann' / '00000100.png')


@LABELME_ONLY
def test_an_unsupported_shape_fails_naming_the_file_and_the_type(tmp_path):
    example, json_path = _example_copy(
        tmp_path, lambda a: a['shapes'][0].update(shape_type='linestrip'))
    with pytest.raises(ValueError) as error:
        converter.convert_example(example, str(tmp_path / 'out'))
    assert json_path in str(error.value) and "unsupported shape type 'linestrip'" in str(
        error.value)


# ---- the CPU recipe: pretrain on the training frames, fine-tune, evaluate on the others ----


@LABELME_ONLY
def test_the_recipe_keeps_the_held_out_frames_out_of_pretraining_and_training(converted):
    """The MoCo pretraining set is the converter's training split, as is the FCN's training
    set; the FCN is evaluated on the two other frames only."""
    from mmseg.registry import DATASETS as SEG_DATASETS
    from mmseg.utils import register_all_modules

    from mmssl.registry import DATASETS
    from mmssl.utils import register_all_modules as register_mmssl

    def stems(dataset):
        return sorted(osp.splitext(osp.basename(dataset.get_data_info(i)['img_path']))[0]
                      for i in range(len(dataset)))

    train, val = converter.SPLITS['video_annotation']['train'], converter.SPLITS[
        'video_annotation']['val']
    register_mmssl(init_default_scope=False)
    pretrain = Config.fromfile(osp.join(REPO_ROOT, LABELME_PRETRAIN)).train_dataloader.dataset
    with DefaultScope.overwrite_default_scope('mmssl'):
        frames = DATASETS.build(pretrain.dataset)  # inside the RepeatDataset
    assert stems(frames) == train

    cfg = Config.fromfile(osp.join(REPO_ROOT, LABELME_FCN))
    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('mmseg'):
        for loader, split in ((cfg.train_dataloader, train), (cfg.val_dataloader, val)):
            dataset = SEG_DATASETS.build(
                dict(loader.dataset, data_root=osp.join(converted, 'video_annotation')))
            assert stems(dataset) == split
            assert dataset.get_data_info(0)['img_path'].startswith(PACKAGE)  # not copied
            assert dataset.metainfo['classes'] == ('_background_', 'car', 'track')


@LABELME_ONLY
def test_labelme_fcn_from_an_mmssl_pretrained_backbone(tmp_path):
    """Pretrain MoCo v2 (3 iterations on the training frames), extract the backbone,
    fine-tune the FCN a few iterations at 160 x 90 and evaluate mIoU on the held-out frames;
    the FCN's backbone is the pretrained online encoder."""
    data = str(tmp_path / 'labelme_segmentation')
    _run('tools/dataset_converters/prepare_labelme_segmentation.py', '--out', data,
         '--examples', 'video_annotation')
    pre_dir = str(tmp_path / 'pretrain')
    _run('tools/train.py', LABELME_PRETRAIN, '--work-dir', pre_dir, '--cfg-options',
         'train_dataloader.dataset.times=8', 'train_dataloader.num_workers=0')
    checkpoint, backbone_file = osp.join(pre_dir, 'epoch_1.pth'), str(tmp_path / 'backbone.pth')
    _run('tools/model_converters/extract_backbone.py', checkpoint, backbone_file)

    seg_dir, iters = str(tmp_path / 'seg'), 4
    video = osp.join(data, 'video_annotation')
    _run('tools/train.py', LABELME_FCN, '--work-dir', seg_dir, '--cfg-options',
         f'model.backbone.init_cfg.checkpoint={backbone_file}',
         f'train_dataloader.dataset.data_root={video}', f'val_dataloader.dataset.data_root={video}',
         'model.data_preprocessor.size=(90,160)',
         'train_dataloader.dataset.pipeline.2.scale=(160,90)',  # RandomResize
         'train_dataloader.dataset.pipeline.3.crop_size=(90,160)',  # RandomCrop
         'val_dataloader.dataset.pipeline.1.scale=(160,90)',  # Resize
         f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
         f'param_scheduler.0.end={iters}', 'default_hooks.logger.interval=1')
    rows = _scalars(seg_dir)
    losses = [row['loss'] for row in rows if 'loss' in row]
    assert len(losses) == iters and all(math.isfinite(x) for x in losses), losses
    (metrics,) = [row for row in rows if 'mIoU' in row]
    assert 0.0 <= metrics['mIoU'] <= 100.0 and 0.0 < metrics['aAcc'] <= 100.0, metrics

    # The segmentor of the run's config starts from the pretrained online encoder.
    state = load_state_dict_file(checkpoint)
    model = build_initialised_model(
        Config.fromfile(osp.join(seg_dir, osp.basename(LABELME_FCN))), 'mmseg')
    _assert_resnet_loaded(model, {k[len('backbone.'):]: v for k, v in state.items()
                                  if k.startswith('backbone.')})
    assert not torch.equal(state['backbone.conv1.weight'], state['momentum_backbone.conv1.weight'])
