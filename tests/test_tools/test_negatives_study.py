"""tools/analysis/negatives_study.py: a 2 x 2 grid with a tiny budget, interrupted and resumed."""
import csv
import os.path as osp
import subprocess
import sys

import cv2
import pytest
from mmengine.config import Config

from tests._helpers import DEMO_CONFIG, REPO_ROOT
from tools.analysis.knn_summary import knn_rows
from tools.analysis.negatives_study import Cell, cell_config, parse_args

TINY = ['--images', '32', '--epochs', '1', '--knn-bank', '64', '--knn-query', '32',
        '--cfg-options', 'train_dataloader.batch_size=8', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False', 'log_level=WARNING', 'model.bn_splits=1']


def study(work_dir, *args):
    proc = subprocess.run(
        [sys.executable, 'tools/analysis/negatives_study.py', DEMO_CONFIG, '--work-dir',
         str(work_dir), '--mechanisms', 'memory_bank', 'moco', '--sizes', '16', '32',
         '--momenta', *TINY, *args], cwd=REPO_ROOT, capture_output=True, text=True,
        timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_cells_switch_only_the_dictionary_and_momentum():
    args = parse_args([DEMO_CONFIG, '--work-dir', 'unused', '--images', '100'])
    base = Config.fromfile(DEMO_CONFIG)
    e2e = cell_config(base, Cell('end_to_end', 64), args, num_images=100)
    assert e2e.model.dictionary == dict(type='InBatchKeys') and e2e.model.ema_momentum is None
    assert e2e.train_dataloader.batch_size == 64
    assert e2e.optim_wrapper.optimizer.lr == pytest.approx(base.optim_wrapper.optimizer.lr / 4)
    bank = cell_config(base, Cell('memory_bank', 1024), args, num_images=100)
    assert bank.model.dictionary.size == 100 and bank.model.dictionary.num_negatives == 1024
    moco = cell_config(base, Cell('moco', 4096, 0.999), args, num_images=100)
    assert moco.model.dictionary.queue_length == 4096 and moco.model.ema_momentum == 0.999
    for cfg in (e2e, bank, moco):  # the same budget and backbone for every cell
        assert cfg.train_cfg.max_epochs == 1 and cfg.train_dataloader.dataset.indices == 100
        assert cfg.model.backbone == base.model.backbone


@pytest.mark.slow
def test_a_2x2_grid_writes_csv_and_png_matching_the_runs_and_resumes(tmp_path):
    first = study(tmp_path, '--max-runs', '2')
    assert 'stopping after 2 runs' in first
    with open(tmp_path / 'results.csv') as f:
        assert [row['cell'] for row in csv.DictReader(f)] == ['bank_K16', 'bank_K32']

    second = study(tmp_path)
    assert 'bank_K16: already done' in second and 'bank_K32: already done' in second
    assert 'moco_K16_m0.99: training' in second and 'bank_K16: training' not in second
    with open(tmp_path / 'results.csv') as f:
        rows = list(csv.DictReader(f))
    assert [(r['mechanism'], r['K'], r['momentum']) for r in rows] == [
        ('memory_bank', '16', ''), ('memory_bank', '32', ''),
        ('moco', '16', '0.99'), ('moco', '32', '0.99')]
    for row in rows:  # each row is what its run logged
        assert row['status'] == 'done' and row['batch_size'] == '8'
        logged = knn_rows(str(tmp_path / 'runs' / row['cell']))
        assert float(row['knn_top1']) == pytest.approx(logged[-1]['knn/top1'], abs=0.01)
        assert float(row['knn_top1_init']) == pytest.approx(logged[0]['knn/top1'], abs=0.01)
        run_cfg = Config.fromfile(str(tmp_path / 'runs' / row['cell'] / 'config.py'))
        assert run_cfg.model.dictionary.type == (
            'MemoryBankKeys' if row['mechanism'] == 'memory_bank' else 'QueueKeys')
    png = cv2.imread(str(tmp_path / 'results.png'))
    assert png is not None and png.shape[0] > 100 and png.shape[1] > 100
    assert osp.isfile(tmp_path / 'results.md')
