"""Write the permutation set of the jigsaw task: maximal minimal Hamming distance.

    python tools/analysis/jigsaw_permutations.py --num 100 \
        --out configs/jigsaw/permutations_100_maxmin-hamming.npy [--tiles 9] [--seed 0]

Noroozi & Favaro (2016) pick the P permutations of the 9 tiles greedily so that they are
far apart; this keeps the minimal Hamming distance as the criterion (see
``mmssl.datasets.transforms.max_hamming_permutations``). The file is a (P, tiles) int64
``.npy`` array that ``JigsawTiles(permutations=FILE)`` loads; row i is label i. The tool
prints the minimal and mean pairwise Hamming distance of the set.
"""
import argparse
import os
import os.path as osp

import numpy as np

from mmssl.datasets.transforms.pretext import max_hamming_permutations


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Jigsaw permutations of maximal Hamming '
                                     'distance (greedy max-min selection)')
    parser.add_argument('--num', type=int, default=100, help='P, permutations to choose')
    parser.add_argument('--tiles', type=int, default=9, help='tiles per puzzle')
    parser.add_argument('--seed', type=int, default=0, help='seed of the first permutation')
    parser.add_argument('--out', required=True, help='the .npy file to write')
    return parser.parse_args(argv)


def hamming_stats(perms: np.ndarray) -> tuple[int, float]:
    """The minimal and the mean Hamming distance between distinct rows of ``perms``."""
    dist = (perms[:, None, :] != perms[None, :, :]).sum(axis=2)
    off = ~np.eye(len(perms), dtype=bool)
    return int(dist[off].min()), float(dist[off].mean())


def main(argv=None) -> np.ndarray:
    args = parse_args(argv)
    perms = max_hamming_permutations(args.num, args.tiles, args.seed)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    tmp = args.out + '.tmp.npy'
    np.save(tmp, perms)
    os.replace(tmp, args.out)
    if len(perms) > 1:
        low, mean = hamming_stats(perms)
        print(f'{len(perms)} permutations of {args.tiles} tiles -> {args.out}: '
              f'min Hamming distance {low}, mean {mean:.2f}')
    return perms


if __name__ == '__main__':
    main()
