import functools
import glob
import itertools
import math

import pytest
import torch
from scipy import stats
from torchvision import transforms as T
from torchvision.io import decode_jpeg, read_file
from torchvision.transforms.v2 import functional as TF

from mmssl.models import (BatchColorJitter, BatchGaussianBlur, BatchRandomFlip,
                          BatchRandomGrayscale, BatchRandomResizedCrop, BatchSolarize,
                          full_image_sizes)
from mmssl.registry import MODELS
from tests._helpers import HostCallRecorder

PHOTOS = sorted(glob.glob('/usr/share/doc/labelme-examples/examples/*/data_dataset_*/'
                          'JPEGImages/*.jpg'))
# p-value below which a distribution test fails (about 1 false alarm in 1000 runs each).
P_MIN = 1e-3


@functools.lru_cache
def _images(n: int = 6, height: int = 40, width: int = 56) -> torch.Tensor:
    """(n, 3, height, width) float in [0, 255] with integer values: crops of real photos.

    Each photo is shrunk 4x (antialiased) and cut into windows, so the images keep real
    edges and textures at a test-friendly size. Without photos: smooth colour gradients
    with a few sharp steps.
    """
    if PHOTOS:
        windows = []
        for path in PHOTOS:
            photo = decode_jpeg(read_file(path)).float()
            photo = TF.resize(photo, [photo.shape[1] // 4, photo.shape[2] // 4], antialias=True)
            windows += [photo[:, t:t + height, left:left + width]
                        for t in (0, photo.shape[1] - height) for left in (0, 20)]
        return torch.stack(windows[:n]).round().clamp(0, 255)
    y = torch.linspace(0, 1, height).view(1, -1, 1)
    x = torch.linspace(0, 1, width).view(1, 1, -1)
    base = torch.cat([y * x, torch.sin(6 * x + 3 * y) * 0.5 + 0.5, (x > 0.5) * 0.6 + 0.2 * y])
    return torch.stack([(base.roll(i, 0) * 255).round() for i in range(n)])


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _slice(params: dict, i: int) -> dict:
    return {key: value[i:i + 1] for key, value in params.items()}


# --- fixed parameters against torchvision, one image at a time -------------------------------

def test_crop_matches_torchvision_resized_crop():
    # Real photo content, down- and upsampling, thin boxes, boxes on the borders, whole image.
    # The resampling weights equal torch's antialiased ones to 1.2e-7; what is left is float32
    # summation order. Measured on the 500 x 375 photos, 340 random boxes to 224 and 96 px:
    # max error 1.04e-3 (of 255); roi_align(aligned, adaptive sampling) would be off by up
    # to 36 (downsampling: box average, not a triangle filter) and 33 (upsampling: it reads
    # pixels outside the box at its borders). Bound: 2e-3.
    images = _images()
    boxes = torch.tensor([[0, 0, 40, 56], [3, 5, 30, 50], [10, 20, 8, 6], [32, 48, 8, 8],
                          [0, 1, 40, 3], [5, 0, 2, 56]])
    op = BatchRandomResizedCrop((20, 24))
    out = op.apply_params(images, dict(boxes=boxes))
    assert out.shape == (6, 3, 20, 24)
    for image, box, result in zip(images, boxes.tolist(), out):
        expected = TF.resized_crop(image / 255, *box, [20, 24], antialias=True) * 255
        assert (result - expected).abs().max() < 2e-3


def test_flip_matches_torchvision():
    images = _images()
    apply = torch.tensor([True, False, True, True, False, False])
    out = BatchRandomFlip().apply_params(images, dict(apply=apply))
    for image, flip, result in zip(images, apply, out):
        torch.testing.assert_close(result, TF.horizontal_flip(image) if flip else image,
                                   rtol=0, atol=0)


@pytest.mark.parametrize('channels', [3, 1])
def test_color_jitter_matches_torchvision(channels, monkeypatch):
    # torchvision's own ColorJitter.forward (its op order loop) with get_params patched to
    # our params, per image, wrapped as RandomApply. Bound 1e-3 of 255.
    images = _images()[:, :channels]
    params = dict(apply=torch.tensor([True, True, True, True, True, False]),
                  factors=torch.tensor([[1.3, 0.7, 1.4, 0.08], [0.6, 1.35, 0.6, -0.1],
                                        [1.0, 1.0, 1.0, 0.5], [1.8, 1.6, 0.0, -0.4],
                                        [0.2, 0.3, 1.9, 0.25], [1.3, 0.7, 1.4, 0.08]]),
                  order=torch.tensor([[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1], [1, 3, 0, 2],
                                      [3, 0, 2, 1], [0, 1, 2, 3]]))
    out = BatchColorJitter(0.9, 0.9, 1.0, 0.5).apply_params(images, params)
    for i, (image, result) in enumerate(zip(images, out)):
        if not params['apply'][i]:
            torch.testing.assert_close(result, image, rtol=0, atol=0)
            continue
        b, c, s, h = params['factors'][i].tolist()
        monkeypatch.setattr(T.ColorJitter, 'get_params',
                            staticmethod(lambda *_: (params['order'][i], b, c, s, h)))
        expected = T.ColorJitter()(image / 255) * 255
        assert (result - expected).abs().max() < 1e-3


def test_grayscale_matches_torchvision():
    images = _images()
    apply = torch.tensor([True, False, True, False, True, True])
    out = BatchRandomGrayscale().apply_params(images, dict(apply=apply))
    for image, grey, result in zip(images, apply, out):
        expected = TF.rgb_to_grayscale(image / 255, 3) * 255 if grey else image
        assert (result - expected).abs().max() < 1e-3
    one_channel = BatchRandomGrayscale().apply_params(images[:, :1], dict(apply=apply))
    torch.testing.assert_close(one_channel, images[:, :1], rtol=0, atol=0)


@pytest.mark.parametrize('kernel_size', [9, 23])
def test_blur_matches_torchvision(kernel_size):
    # Separable (ours) against a 2-D kernel (torchvision): float rounding only. Bound 1e-3.
    images = _images()
    params = dict(apply=torch.tensor([True, True, True, True, False, True]),
                  sigma=torch.tensor([0.1, 0.5, 1.0, 2.0, 1.5, 7.0]))
    out = BatchGaussianBlur(kernel_size).apply_params(images, params)
    for image, blur, sigma, result in zip(images, params['apply'], params['sigma'], out):
        expected = TF.gaussian_blur(image / 255, [kernel_size] * 2, [sigma.item()] * 2) * 255
        assert (result - (expected if blur else image)).abs().max() < 1e-3


def test_solarize_matches_torchvision():
    images = _images()
    apply = torch.tensor([True, True, False, True, False, True])
    out = BatchSolarize(threshold=100).apply_params(images, dict(apply=apply))
    for image, sol, result in zip(images, apply, out):
        expected = TF.solarize(image.byte(), 100).float() if sol else image
        torch.testing.assert_close(result, expected, rtol=0, atol=0)


# --- every op: batch = per image, seeds ------------------------------------------------------

OPS = [
    lambda: BatchRandomResizedCrop(16, scale=(0.05, 1.0)),
    lambda: BatchRandomResizedCrop((12, 20), scale=(0.5, 1.0), ratio=(0.5, 3.0)),
    lambda: BatchRandomFlip(),
    lambda: BatchColorJitter(0.4, 0.4, 0.4, 0.1, prob=0.8),
    lambda: BatchRandomGrayscale(prob=0.5),
    lambda: BatchGaussianBlur(kernel_size=9, prob=0.5),
    lambda: BatchSolarize(prob=0.5),
]


@pytest.mark.parametrize('make_op', OPS)
def test_batch_equals_per_image(make_op):
    op, images = make_op(), _images()
    sizes = full_image_sizes(images)
    params = op.sample_params(len(images), _gen(), sizes)
    assert all(value.shape[0] == len(images) for value in params.values())
    batched = op.apply_params(images, params, sizes)
    for i in range(len(images)):
        alone = op.apply_params(images[i:i + 1], _slice(params, i), sizes[i:i + 1])
        torch.testing.assert_close(batched[i:i + 1], alone, rtol=0, atol=1e-4)
    torch.testing.assert_close(op(images, _gen(), sizes), batched, rtol=0, atol=0)


@pytest.mark.parametrize('make_op', OPS)
def test_same_seed_same_params_other_seed_other_params(make_op):
    op = make_op()
    sizes = torch.tensor([[40, 56]]).expand(64, 2)
    first, again, other = (op.sample_params(64, _gen(seed), sizes) for seed in (3, 3, 4))
    assert first.keys() == again.keys() == other.keys()
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert any(not torch.equal(first[k], other[k]) for k in first)


def test_registry_builds_the_ops():
    assert isinstance(MODELS.build(dict(type='BatchSolarize', prob=0.1)), BatchSolarize)


# --- the crop: distribution, fallback, padding -----------------------------------------------

@pytest.mark.parametrize('scale, ratio', [((0.08, 1.0), (3 / 4, 4 / 3)),
                                          ((0.5, 1.0), (0.3, 3.0))])  # often rejected
def test_crop_boxes_follow_torchvision_distribution(scale, ratio):
    height, width, n = 37, 50, 20000
    torch.manual_seed(0)
    expected = torch.tensor([T.RandomResizedCrop.get_params(torch.zeros(1, height, width),
                                                            list(scale), list(ratio))
                             for _ in range(n)]).double()
    sizes = torch.tensor([[height, width]]).expand(n, 2)
    boxes = BatchRandomResizedCrop(8, scale, ratio).sample_params(n, _gen(), sizes)['boxes']

    def features(b):
        top, left, h, w = b.double().unbind(1)
        return dict(area=h * w / (height * width), log_aspect=torch.log(w / h),
                    top=(top + 0.5) / (height - h + 1), left=(left + 0.5) / (width - w + 1))

    ours, theirs = features(boxes), features(expected)
    for key in ours:
        assert stats.ks_2samp(ours[key], theirs[key]).pvalue > P_MIN, key
    top, left, h, w = boxes.unbind(1)
    assert (top >= 0).all() and (left >= 0).all()
    assert (top + h <= height).all() and (left + w <= width).all()


@pytest.mark.parametrize('height, width, ratio', [(10, 10, (4.0, 4.0)), (10, 10, (0.2, 0.25)),
                                                  (12, 40, (0.9, 1.1)), (9, 7, (0.5, 2.0))])
def test_crop_fallback_is_torchvision_centre_crop(height, width, ratio):
    # scale (2, 2): no attempt fits, every sample takes the fallback (aspect clamped to the
    # ratio range, sides rounded half to even as Python's round; the whole image when its
    # aspect is in the range).
    n = 50
    sizes = torch.tensor([[height, width]]).expand(n, 2)
    boxes = BatchRandomResizedCrop(8, (2.0, 2.0), ratio).sample_params(n, _gen(), sizes)
    expected = T.RandomResizedCrop.get_params(torch.zeros(1, height, width), [2.0, 2.0],
                                              list(ratio))
    assert (boxes['boxes'] == torch.tensor(expected)).all(), expected


def test_crop_never_reads_outside_image_sizes():
    # Images of different sizes padded at the bottom/right with a value no image has.
    sizes = torch.tensor([[40, 56], [13, 56], [40, 9], [5, 7], [21, 30], [1, 1]] * 100)
    images = _images().repeat(100, 1, 1, 1)
    rows, cols = torch.arange(40).view(1, -1, 1), torch.arange(56).view(1, 1, -1)
    padding = (rows >= sizes[:, 0, None, None]) | (cols >= sizes[:, 1, None, None])
    padded = torch.where(padding.unsqueeze(1), torch.tensor(1e6), images)
    op = BatchRandomResizedCrop(16, scale=(0.01, 1.0), ratio=(0.2, 5.0))
    params = op.sample_params(len(images), _gen(), sizes)
    top, left, h, w = params['boxes'].unbind(1)
    assert (top >= 0).all() and (left >= 0).all() and (h >= 1).all() and (w >= 1).all()
    assert (top + h <= sizes[:, 0]).all() and (left + w <= sizes[:, 1]).all()
    out = op.apply_params(padded, params, sizes)
    assert out.max() <= 255 + 1e-3
    torch.testing.assert_close(out, op.apply_params(images, params, sizes), rtol=0, atol=1e-3)


def test_crop_needs_image_sizes_to_sample_but_forward_fills_them():
    op = BatchRandomResizedCrop(8)
    with pytest.raises(ValueError, match='image_sizes'):
        op.sample_params(4, _gen())
    images = _images()
    torch.testing.assert_close(op(images, _gen()), op(images, _gen(), full_image_sizes(images)))


# --- other distributions ---------------------------------------------------------------------

def _binomial_ok(hits: torch.Tensor, prob: float) -> bool:
    """The fraction of hits lies within 5 standard deviations of prob."""
    n = hits.numel()
    return abs(hits.float().mean().item() - prob) <= 5 * math.sqrt(prob * (1 - prob) / n) + 1e-9


@pytest.mark.parametrize('op, prob', [(BatchRandomFlip(0.3), 0.3),
                                      (BatchColorJitter(prob=0.8), 0.8),
                                      (BatchRandomGrayscale(0.2), 0.2),
                                      (BatchGaussianBlur(prob=0.5), 0.5),
                                      (BatchSolarize(prob=0.2), 0.2),
                                      (BatchSolarize(prob=0.0), 0.0),
                                      (BatchSolarize(prob=1.0), 1.0)])
def test_application_probability(op, prob):
    # 200k draws: the 5-sigma bound is below 0.0045, a 3 % relative error at prob 0.2.
    assert _binomial_ok(op.sample_params(200000, _gen())['apply'], prob)


def test_jitter_factors_uniform_and_orders_uniform():
    n = 20000
    params = BatchColorJitter(0.4, 1.5, 0.2, 0.1).sample_params(n, _gen())
    ranges = [(0.6, 1.4), (0.0, 2.5), (0.8, 1.2), (-0.1, 0.1)]  # contrast clipped at 0
    for factor, (low, high) in zip(params['factors'].unbind(1), ranges):
        assert factor.min() >= low and factor.max() < high
        assert stats.kstest(factor, 'uniform', args=(low, high - low)).pvalue > P_MIN
    order = params['order']
    assert (order.sort(1).values == torch.arange(4)).all()
    counts = torch.zeros(24)
    for k, perm in enumerate(itertools.permutations(range(4))):
        counts[k] = (order == torch.tensor(perm)).all(1).sum()
    assert stats.chisquare(counts).pvalue > P_MIN


def test_blur_sigma_uniform():
    sigma = BatchGaussianBlur(sigma=(0.1, 2.0)).sample_params(20000, _gen())['sigma']
    assert sigma.min() >= 0.1 and sigma.max() < 2.0
    assert stats.kstest(sigma, 'uniform', args=(0.1, 1.9)).pvalue > P_MIN


# --- arguments, device ------------------------------------------------------------------------

@pytest.mark.parametrize('make, match', [
    (lambda: BatchRandomResizedCrop(0), 'size.*0'),
    (lambda: BatchRandomResizedCrop(8, scale=(0.5, 0.2)), r'scale.*\(0.5, 0.2\)'),
    (lambda: BatchRandomResizedCrop(8, ratio=(0, 1)), r'ratio.*\(0, 1\)'),
    (lambda: BatchRandomFlip(1.5), 'BatchRandomFlip prob.*1.5'),
    (lambda: BatchColorJitter(brightness=-0.1), 'brightness.*-0.1'),
    (lambda: BatchColorJitter(saturation=-2), 'saturation.*-2'),
    (lambda: BatchColorJitter(hue=0.6), 'hue.*0.6'),
    (lambda: BatchColorJitter(prob=-0.2), 'BatchColorJitter prob.*-0.2'),
    (lambda: BatchRandomGrayscale(2), 'BatchRandomGrayscale prob.*2'),
    (lambda: BatchGaussianBlur(kernel_size=4), 'kernel_size.*4'),
    (lambda: BatchGaussianBlur(sigma=(0.0, 1.0)), r'sigma.*\(0.0, 1.0\)'),
    (lambda: BatchSolarize(threshold=300), 'threshold.*300'),
])
def test_bad_arguments_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize('make_op', OPS)
def test_ops_make_no_host_round_trip(make_op, monkeypatch):
    # The CPU stand-in for the CUDA test below: no value read back from the tensors and no
    # tensor made from host values (torch.tensor(x, device='cuda') syncs).
    op, images = make_op(), _images()
    sizes = full_image_sizes(images)
    with HostCallRecorder(monkeypatch) as recorder:
        op(images, _gen(), sizes)
    assert recorder.calls == []


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')
def test_ops_run_on_the_device_without_host_sync():
    images = _images().cuda()
    generator = torch.Generator(device='cuda').manual_seed(0)
    sizes = full_image_sizes(images)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode('error')
    try:
        for make_op in OPS:
            make_op().cuda()(images, generator, sizes)
    finally:
        torch.cuda.set_sync_debug_mode('default')
