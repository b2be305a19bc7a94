"""Time JPEG decoding, the one job the device pipeline leaves to the loader workers:
OpenCV's ``imdecode`` (what mmssl's ``LoadImageFromFile`` runs) and torchvision's
``decode_jpeg``, image by image on one CPU thread (what one worker does), and, with CUDA,
torchvision's ``decode_jpeg`` of a whole batch on the GPU (nvJPEG).

    python tools/benchmark/decode.py --make-data 512 --batch 256
    python tools/benchmark/decode.py --data data/imagenet/train --batch 256

The files are read into memory first: only decoding is timed. Prints milliseconds per
batch (median of ``--repeats``) and images/s.
"""
import argparse
import os.path as osp
import sys
import tempfile

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def decoders(device: str) -> dict:
    """name -> (fn(list of encoded uint8 tensors) decoding them all, the device it runs on)."""
    import cv2
    import torch
    from torchvision.io import ImageReadMode, decode_jpeg

    def opencv(encoded):
        return [cv2.imdecode(data.numpy(), cv2.IMREAD_COLOR) for data in encoded]

    def torchvision_cpu(encoded):
        return [decode_jpeg(data, mode=ImageReadMode.RGB) for data in encoded]

    cpu = torch.device('cpu')
    found = {'OpenCV imdecode, per image, 1 CPU thread': (opencv, cpu),
             'torchvision decode_jpeg, per image, 1 CPU thread': (torchvision_cpu, cpu)}
    if device == 'cuda':
        def torchvision_gpu(encoded):
            return decode_jpeg(encoded, mode=ImageReadMode.RGB, device='cuda')
        found['torchvision decode_jpeg, whole batch on the GPU (nvJPEG)'] = (
            torchvision_gpu, torch.device('cuda'))
    return found


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    data = parser.add_mutually_exclusive_group(required=True)
    data.add_argument('--data', metavar='DIR', help='a folder of JPEG files (recursive)')
    data.add_argument('--make-data', type=int, metavar='N',
                      help='write N ImageNet-like JPEG files to a temporary folder')
    parser.add_argument('--batch', type=int, default=256, help='images per timed batch')
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--device', choices=['cuda', 'cpu'],
                        help='default: cuda if available (adds the GPU row), else cpu')
    args = parser.parse_args(argv)
    if args.batch < 1 or args.repeats < 1:
        parser.error('--batch and --repeats must be at least 1')

    sys.path.insert(0, REPO_ROOT)
    import torch
    from torchvision.io import read_file

    from tools.benchmark.augmentation import _time
    from tools.benchmark.throughput import find_images, make_data

    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    if device == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('--device cuda: no CUDA device is available')
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix='mmssl-decode-') as scratch:
        if args.make_data:
            make_data(args.make_data, scratch)
            folder = scratch
        else:
            folder = args.data
        paths = [p for p in find_images(folder) if p.lower().endswith(('.jpg', '.jpeg'))]
        if not paths:
            raise SystemExit(f'--data: {folder!r} holds no JPEG file')
        encoded = [read_file(paths[i % len(paths)]) for i in range(args.batch)]
    kb = sum(data.numel() for data in encoded) / len(encoded) / 1000
    print(f'{args.batch} JPEG files ({len(paths)} distinct, {kb:.0f} KB on average); '
          f'torch {torch.__version__}'
          + (f', {torch.cuda.get_device_name()}' if device == 'cuda' else ''))
    print('| decoder | ms per batch | images/s |\n|---|---:|---:|')
    rows = {}
    for name, (decode, decode_device) in decoders(device).items():
        seconds = _time(lambda: decode(encoded), decode_device, args.repeats)
        rows[name] = args.batch / seconds
        print(f'| {name} | {seconds * 1e3:.1f} | {rows[name]:.0f} |')
    return rows


if __name__ == '__main__':
    main()
