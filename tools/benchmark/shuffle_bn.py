"""Time Shuffling BN on one process: the query + key forward of MoCo v2 (ResNet-18) with
its BN groups run group by group (the CPU's default) or in one pass (split BN layers, the
default elsewhere).

    OMP_NUM_THREADS=1 python tools/benchmark/shuffle_bn.py --batch 256 --size 32 --splits 8
        [--channels-last] [--backward] [--stem cifar]

Prints the median seconds of each variant over ``--repeats`` rounds after one warm-up (the
variants take turns within a round, so a busy host slows them alike), plain BN over the
whole batch (no Shuffling BN) as a reference, and the group by group / one pass ratio.
``--stem cifar``: the Fashion-MNIST demo's ResNet_CIFAR-18 at width 16 (no downsampling
stem, so the maps stay large), instead of the ImageNet ResNet-18. The
query forward keeps its autograd graph (as in training), the key's does not; with
``--backward`` the step also back-propagates through the query (a training step's
encoder work, less the optimizer).
"""
import argparse
import statistics
import time
from typing import Callable

import torch

from mmssl.models.utils.shuffle_bn import forward_in_splits, forward_shuffled
from mmssl.registry import MODELS
from mmssl.utils import register_all_modules


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--batch', type=int, default=256)
    parser.add_argument('--size', type=int, default=32, help='image side in pixels')
    parser.add_argument('--splits', type=int, default=8, help='model.bn_splits')
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--threads', type=int, default=1, help='CPU threads')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--channels-last', action='store_true',
                        help='channels-last weights and views (model.channels_last)')
    parser.add_argument('--backward', action='store_true',
                        help='also back-propagate through the query (a training step)')
    parser.add_argument('--stem', choices=('imagenet', 'cifar'), default='imagenet',
                        help="cifar: the Fashion-MNIST demo's ResNet_CIFAR-18 at width 16")
    return parser.parse_args(argv)


def build_mocov2(bn_splits: int, device: str, channels_last: bool, stem: str = 'imagenet'):
    """MoCo v2 with a ResNet-18 (plain BN; ImageNet stem, or the demo's CIFAR stem at width
    16) and its MLP neck to 128."""
    if stem == 'cifar':
        backbone = dict(type='ResNet_CIFAR', depth=18, stem_channels=16, base_channels=16,
                        norm_cfg=dict(type='BN'), zero_init_residual=False)
        width = 128
    else:
        backbone = dict(type='ResNet', depth=18, norm_cfg=dict(type='BN'),
                        zero_init_residual=False)
        width = 512
    model = MODELS.build(dict(
        type='MoCo', dictionary=dict(type='QueueKeys', queue_length=4096, dim=128),
        ema_momentum=0.999, bn_splits=bn_splits, channels_last=channels_last,
        backbone=backbone,
        neck=dict(type='MoCoV2Neck', in_channels=width, hid_channels=width, out_channels=128,
                  with_avg_pool=True),
        head=dict(type='InfoNCEHead', temperature=0.2)))
    model.init_weights()
    return model.to(device).train()


def shuffling_bn(model, view_q: torch.Tensor, view_k: torch.Tensor,
                 one_pass: bool) -> torch.Tensor:
    """What ``MoCo.loss`` runs: the query with its BN groups, the key with Shuffling BN,
    group by group or in one pass."""
    query = forward_in_splits(model.project, view_q, model.bn_splits, model, one_pass)
    with torch.no_grad():
        key = forward_shuffled(model.momentum_project, view_k, model.bn_splits, model,
                               one_pass)
    return query.sum() + key.sum()


def median_seconds(steps: dict[str, Callable[[], torch.Tensor]], repeats: int,
                   device: str) -> dict[str, float]:
    """The median seconds of each step, the steps taking turns in every round."""
    def sync():
        if device.startswith('cuda'):
            torch.cuda.synchronize()

    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats + 1):  # the first round warms up
        for name, step in steps.items():
            sync()
            start = time.perf_counter()
            step()
            sync()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values[1:]) for name, values in times.items()}


def main(argv=None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    register_all_modules(init_default_scope=True)
    torch.manual_seed(0)
    memory_format = torch.channels_last if args.channels_last else torch.contiguous_format
    views = [torch.randn(args.batch, 3, args.size, args.size, device=args.device).contiguous(
        memory_format=memory_format) for _ in range(2)]
    split_model = build_mocov2(args.splits, args.device, args.channels_last, args.stem)
    plain_model = build_mocov2(1, args.device, args.channels_last, args.stem)

    def run(model, one_pass: bool) -> Callable[[], None]:
        def step() -> None:
            out = shuffling_bn(model, *views, one_pass)
            if args.backward:
                out.backward()
        return step

    seconds = median_seconds({
        'plain BN (no Shuffling BN)': run(plain_model, True),
        f'group by group, {args.splits} groups': run(split_model, False),
        f'one pass, {args.splits} groups': run(split_model, True),
    }, args.repeats, args.device)
    layout = 'channels-last' if args.channels_last else 'NCHW'
    what = 'query + key forward and query backward' if args.backward else 'query + key forward'
    print(f'{what} of MoCo v2 / ResNet-18 ({args.stem} stem), batch {args.batch}x3x{args.size}x'
          f'{args.size} {layout}, {args.device}, {args.threads} thread(s), median of '
          f'{args.repeats}:')
    for name, value in seconds.items():
        print(f'  {name:<32} {value:.3f} s')
    by_group, single = list(seconds.values())[1:]
    print(f'  group by group / one pass: {by_group / single:.2f}')
    return seconds


if __name__ == '__main__':
    main()
