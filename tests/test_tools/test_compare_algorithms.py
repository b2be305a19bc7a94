"""tools/analysis/compare_algorithms.py: two configs at a tiny budget, kNN before and after,
then (on a rerun with --linear) a linear probe of each run's checkpoint."""
import csv
import json
import subprocess
import sys

import pytest

from tests._helpers import DEMO_CONFIG, REPO_ROOT
from tools.analysis.knn_summary import knn_rows

E2E = 'configs/mocov2/mocov2_resnet18-endtoend_1xb256-coslr-2e_fmnist.py'
LINEAR = 'configs/benchmarks/classification/fashion_mnist/resnet18_linear-1xb256-coslr-3e_fmnist.py'
TINY = ['--images', '32', '--epochs', '1', '--knn-bank', '64', '--knn-query', '32',
        '--cfg-options', 'train_dataloader.batch_size=8', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False', 'log_level=WARNING', 'model.bn_splits=1']
TINY_LINEAR = ['--linear', LINEAR, '--linear-options', 'train_cfg.max_epochs=1',
               'train_cfg.val_interval=1', 'train_dataloader.dataset.indices=64',
               'val_dataloader.dataset.indices=64', 'train_dataloader.batch_size=32',
               'log_level=WARNING']


def compare(work_dir, *args, configs=(DEMO_CONFIG, E2E)):
    proc = subprocess.run(
        [sys.executable, 'tools/analysis/compare_algorithms.py', *configs,
         '--work-dir', str(work_dir), *args, *TINY], cwd=REPO_ROOT, capture_output=True,
        text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def rows(work_dir):
    with open(work_dir / 'results.csv') as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_rows_match_the_runs_and_a_rerun_adds_the_linear_probe(tmp_path):
    compare(tmp_path)
    first = rows(tmp_path)
    assert [r['algorithm'] for r in first] == ['MoCo', 'MoCo']
    for row in first:  # each row is what its run logged; no probe asked for
        assert row['status'] == 'done' and row['linear_top1'] == ''
        logged = knn_rows(str(tmp_path / 'runs' / row['config']))
        assert float(row['knn_top1_init']) == pytest.approx(logged[0]['knn/top1'], abs=0.01)
        assert float(row['knn_top1']) == pytest.approx(logged[-1]['knn/top1'], abs=0.01)

    out = compare(tmp_path, *TINY_LINEAR)
    assert out.count('already done') == 2 and out.count('linear probe') == 2
    for before, row in zip(first, rows(tmp_path)):
        assert {k: row[k] for k in before if not k.startswith('linear')} == {
            k: v for k, v in before.items() if not k.startswith('linear')}
        assert row['linear_status'] == 'done'
        linear_dir = tmp_path / 'runs' / row['config'] / 'linear'
        scalars = [json.loads(line) for path in linear_dir.glob('*/vis_data/scalars.json')
                   for line in open(path)]
        top1 = [s['accuracy/top1'] for s in scalars if 'accuracy/top1' in s]
        assert float(row['linear_top1']) == pytest.approx(top1[-1], abs=0.01)
        # the probe started from the run's checkpoint: its backbone loaded that file
        log = next(linear_dir.glob('*/*.log')).read_text()
        assert str(tmp_path / 'runs' / row['config']) in log
    assert 'linear_top1' in (tmp_path / 'results.md').read_text()
    assert 'linear probe' not in compare(tmp_path, *TINY_LINEAR)  # nothing left to do
    compare(tmp_path, configs=[E2E])  # a call with fewer configs keeps the other rows
    assert [r['config'] for r in rows(tmp_path)] == [
        'mocov2_resnet18-endtoend_1xb256-coslr-2e_fmnist', 'mocov2_resnet18_1xb256-coslr-2e_fmnist']
