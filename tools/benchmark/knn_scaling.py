"""Memory and time per rank of the sharded weighted kNN vote against bank size.

    OMP_NUM_THREADS=1 python tools/benchmark/knn_scaling.py [--sizes 10000 50000 100000 200000]
        [--dims 2048 128] [--worlds 1 2] [--queries 256] [--chunk-size 256] [--device cpu]
        [--json knn_scaling.json]

For each feature dimension, bank size and number of ranks, ``world`` fresh processes
(gloo on the CPU, NCCL with one GPU each on ``--device cuda``) each draw their shard of a
synthetic bank (L2-normalised float16 rows, 1000 classes, as ``KNNAccuracy`` keeps them) and
their share of the queries, then run ``weighted_knn_scores``: what ``KNNAccuracy.evaluate``
does after the feature pass (after a first vote on a tiny bank, so that the code it
touches does not count). Memory per rank is what the shard and the vote add: on the CPU
the peak RSS above the RSS before the shard was drawn (the peak is reset after the
drawing, through Linux's ``/proc/self/clear_refs``), on a GPU the peak of
``torch.cuda.max_memory_allocated`` above what was allocated before. Seconds: the vote,
the slowest rank. Prints a markdown table (the largest rank of each run) and optionally
writes the rows as JSON.
"""
import argparse
import json
import os
import tempfile
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

from mmssl.evaluation.functional import weighted_knn_scores

NUM_CLASSES = 1000
MiB = 2**20


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[10000, 50000, 100000, 200000],
                        help='bank sizes N (over all ranks)')
    parser.add_argument('--dims', type=int, nargs='+', default=[2048, 128])
    parser.add_argument('--worlds', type=int, nargs='+', default=[1, 2], help='numbers of ranks')
    parser.add_argument('--queries', type=int, default=256, help='queries over all ranks')
    parser.add_argument('--chunk-size', type=int, default=256,
                        help='weighted_knn_scores chunk_size (queries per similarity block)')
    parser.add_argument('--k', type=int, default=20)
    parser.add_argument('--threads', type=int, default=1, help='CPU threads per rank')
    parser.add_argument('--device', choices=('cpu', 'cuda'), default='cpu')
    parser.add_argument('--json', help='also write the rows to this file')
    return parser.parse_args(argv)


def shard_rows(total: int, world: int, rank: int) -> int:
    """Rows of rank ``rank`` when ``total`` rows are dealt to ``world`` ranks in turn."""
    return len(range(rank, total, world))


def synthetic_features(rows: int, dim: int, seed: int, device: str,
                       block: int = 4096) -> tuple[torch.Tensor, torch.Tensor]:
    """(rows, dim) L2-normalised float16 features drawn ``block`` rows at a time (so the
    float32 draws stay small), and (rows,) labels in [0, NUM_CLASSES)."""
    gen = torch.Generator(device).manual_seed(seed)
    feats = torch.empty(rows, dim, dtype=torch.half, device=device)
    for start in range(0, rows, block):
        draw = torch.randn(min(block, rows - start), dim, generator=gen, device=device)
        feats[start:start + block] = F.normalize(draw, dim=1).half()
    return feats, torch.randint(0, NUM_CLASSES, (rows,), generator=gen, device=device)


def _rss_bytes(field: str = 'VmRSS') -> int:
    with open('/proc/self/status') as status:
        line = next(line for line in status if line.startswith(field + ':'))
    return int(line.split()[1]) * 1024


def _run_rank(rank: int, world: int, init_file: str, queue, args: argparse.Namespace,
              size: int, dim: int) -> None:
    torch.set_num_threads(args.threads)
    cuda = args.device == 'cuda'
    if cuda:
        torch.cuda.set_device(rank)
    dist.init_process_group('nccl' if cuda else 'gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=world)
    device = f'cuda:{rank}' if cuda else 'cpu'
    # a first vote on a tiny bank, so that the code and buffers it touches do not count
    tiny, tiny_labels = synthetic_features(args.k, dim, rank, device)
    weighted_knn_scores(tiny, tiny, tiny_labels, NUM_CLASSES, args.k)
    base = torch.cuda.memory_allocated() if cuda else _rss_bytes()
    bank, labels = synthetic_features(shard_rows(size, world, rank), dim, rank, device)
    query, _ = synthetic_features(shard_rows(args.queries, world, rank), dim, 1000 + rank,
                                  device)
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    else:
        with open('/proc/self/clear_refs', 'w') as clear:
            clear.write('5')  # the peak RSS (VmHWM) restarts from the current RSS
    dist.barrier()
    start = time.perf_counter()
    weighted_knn_scores(query, bank, labels, NUM_CLASSES, args.k, chunk_size=args.chunk_size)
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated() if cuda else _rss_bytes('VmHWM')
    queue.put(dict(rank=rank, rows=len(bank), peak_bytes=peak - base, seconds=seconds))
    dist.barrier()
    dist.destroy_process_group()


def measure(args: argparse.Namespace, size: int, dim: int, world: int) -> dict:
    """The table row of one run: its largest rank's memory, its slowest rank's seconds."""
    ctx = mp.get_context('spawn')
    queue = ctx.Queue()
    with tempfile.TemporaryDirectory() as tmp:
        init_file = os.path.join(tmp, 'rendezvous')
        procs = [ctx.Process(target=_run_rank, args=(rank, world, init_file, queue, args, size,
                                                     dim)) for rank in range(world)]
        for proc in procs:
            proc.start()
        ranks = [queue.get(timeout=3600) for _ in procs]
        for proc in procs:
            proc.join()
    if any(proc.exitcode for proc in procs):
        raise RuntimeError(f'a rank failed (N={size}, D={dim}, {world} ranks)')
    largest = max(ranks, key=lambda rank: rank['peak_bytes'])
    return dict(dim=dim, bank=size, ranks=world, queries=args.queries,
                chunk_size=args.chunk_size, device=args.device, shard_rows=largest['rows'],
                shard_bytes=largest['rows'] * dim * 2, peak_bytes=largest['peak_bytes'],
                bytes_per_row=largest['peak_bytes'] / largest['rows'],
                seconds=max(rank['seconds'] for rank in ranks))


def markdown(rows: list[dict]) -> str:
    lines = ['| D | bank N | ranks | rows per rank | float16 shard | peak per rank | '
             'peak bytes per row | seconds |',
             '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |']
    for row in rows:
        lines.append(f"| {row['dim']} | {row['bank']:,} | {row['ranks']} | "
                     f"{row['shard_rows']:,} | {row['shard_bytes'] / MiB:.0f} MiB | "
                     f"{row['peak_bytes'] / MiB:.0f} MiB | {row['bytes_per_row']:.0f} | "
                     f"{row['seconds']:.2f} |")
    return '\n'.join(lines)


def main(argv=None) -> list[dict]:
    args = parse_args(argv)
    rows = []
    for dim in args.dims:
        for size in args.sizes:
            for world in args.worlds:
                rows.append(measure(args, size, dim, world))
                print(markdown(rows[-1:]).splitlines()[-1], flush=True)
    print(f'\nweighted kNN vote, {args.queries} queries, chunk_size {args.chunk_size}, '
          f'k={args.k}, {args.device}, {args.threads} thread(s) per rank:')
    print(markdown(rows))
    if args.json:
        with open(args.json, 'w') as out:
            json.dump(rows, out, indent=1)
    return rows


if __name__ == '__main__':
    main()
