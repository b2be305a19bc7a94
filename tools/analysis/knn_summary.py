"""Print the kNN accuracies a run logged (KNNEvalHook), first and last, from its work dir.

    python tools/analysis/knn_summary.py WORK_DIR [--out summary.json]
"""
import argparse
import glob
import json
import os.path as osp


def knn_rows(work_dir: str) -> list[dict]:
    """The kNN rows of the newest run's vis_data/scalars.json, in order."""
    runs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not runs:
        raise SystemExit(f'no run with logged scalars under {work_dir}')
    with open(runs[-1]) as f:
        rows = [json.loads(line) for line in f]
    rows = [row for row in rows if 'knn/top1' in row]
    if not rows:
        raise SystemExit(f'{runs[-1]} holds no kNN result (is KNNEvalHook in the config?)')
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dir')
    parser.add_argument('--out', help='also write the summary to this JSON file')
    args = parser.parse_args()
    rows = knn_rows(args.work_dir)
    for row in rows:
        print(f"kNN at iteration {row['step']:>6}: top-1 {row['knn/top1']:.2f} %, "
              f"top-5 {row['knn/top5']:.2f} %")
    first, last = rows[0], rows[-1]
    summary = dict(first_step=first['step'], first_top1=first['knn/top1'],
                   last_step=last['step'], last_top1=last['knn/top1'],
                   gain=last['knn/top1'] - first['knn/top1'])
    print(f"kNN top-1: {summary['first_top1']:.2f} % at iteration {summary['first_step']} -> "
          f"{summary['last_top1']:.2f} % at iteration {summary['last_step']} "
          f"({summary['gain']:+.2f} points)")
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(summary, f, indent=2)


if __name__ == '__main__':
    main()
