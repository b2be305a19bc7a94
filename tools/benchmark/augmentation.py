"""Time MoCo v2's view augmentation of one batch: mmssl's batched device ops against
torchvision applied image by image (what a CPU loader worker does) and, when installed,
kornia's batched augmentation (per-sample parameters, its own definitions).

    python tools/benchmark/augmentation.py --device cuda --batch 256 --size 512
    OMP_NUM_THREADS=1 python tools/benchmark/augmentation.py --device cpu --batch 32 --size 256

Prints milliseconds per batch of one view (median of ``--repeats``) and images/s.
"""
import argparse
import statistics
import time

import torch

from mmssl.models.data_preprocessors.batch_view_augments import (BatchColorJitter,
                                                                 BatchGaussianBlur,
                                                                 BatchRandomFlip,
                                                                 BatchRandomGrayscale,
                                                                 BatchRandomResizedCrop,
                                                                 full_image_sizes)


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def _time(fn, device: torch.device, repeats: int) -> float:
    """Median seconds of ``fn()`` over ``repeats`` runs after one warm-up."""
    fn()
    times = []
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def mmssl_views(size: int):
    ops = [BatchRandomResizedCrop(size, scale=(0.2, 1.0)),
           BatchColorJitter(0.4, 0.4, 0.4, 0.1, prob=0.8), BatchRandomGrayscale(0.2),
           BatchGaussianBlur(23, (0.1, 2.0), prob=0.5), BatchRandomFlip(0.5)]

    def run(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        sizes = full_image_sizes(images)
        for op in ops:
            images = op(images, generator, sizes)
            sizes = None
        return images
    return run


def torchvision_views(size: int):
    from torchvision.transforms import v2
    chain = v2.Compose([
        v2.RandomResizedCrop(size, scale=(0.2, 1.0), antialias=True),
        v2.RandomApply([v2.ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8),
        v2.RandomGrayscale(0.2),
        v2.RandomApply([v2.GaussianBlur(23, (0.1, 2.0))], p=0.5),
        v2.RandomHorizontalFlip(),
    ])
    return lambda images, generator: torch.stack([chain(img) for img in images])


def kornia_views(size: int):
    import kornia.augmentation as K
    chain = K.AugmentationSequential(
        K.RandomResizedCrop((size, size), scale=(0.2, 1.0)),
        K.ColorJitter(0.4, 0.4, 0.4, 0.1, p=0.8), K.RandomGrayscale(p=0.2),
        K.RandomGaussianBlur((23, 23), (0.1, 2.0), p=0.5), K.RandomHorizontalFlip())
    return lambda images, generator: chain(images / 255) * 255


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--batch', type=int, default=256)
    parser.add_argument('--size', type=int, default=512, help='input side (decoded images)')
    parser.add_argument('--crop', type=int, default=224, help='output side of a view')
    parser.add_argument('--repeats', type=int, default=5)
    args = parser.parse_args()
    device = torch.device(args.device)
    generator = torch.Generator(device=device).manual_seed(0)
    images = torch.randint(0, 256, (args.batch, 3, args.size, args.size),
                           generator=generator, device=device).float()
    makers = {'mmssl batched': mmssl_views, 'torchvision per image': torchvision_views}
    try:
        import kornia  # noqa: F401
        makers['kornia batched'] = kornia_views
    except ImportError:
        print('kornia not installed: its row is left out')
    print(f'{args.batch} images {args.size}x{args.size} -> one view at {args.crop} px on '
          f'{device} (torch {torch.__version__}, {torch.get_num_threads()} threads)')
    print('| augmentation | ms per batch | images/s |\n|---|---|---|')
    for name, make in makers.items():
        run = make(args.crop)
        seconds = _time(lambda: run(images, generator), device, args.repeats)
        print(f'| {name} | {seconds * 1e3:.1f} | {args.batch / seconds:.0f} |')


if __name__ == '__main__':
    main()
