"""tools/analysis/negatives_study.py: cells that change only the dictionary, and a tiny
2-cell x 2-seed grid on the full protocol (its evaluation subsets shrunk), interrupted and
resumed."""
import copy
import csv
import json

import cv2
import pytest
from mmengine.config import Config

from tests._helpers import DEMO_CONFIG
from tests.test_tools.test_train_zoo import tiny_config
from tools.analysis.negatives_study import Cell, cell_overrides, main


def merged(base: Config, overrides: dict) -> Config:
    cfg = copy.deepcopy(base)
    cfg.merge_from_dict(copy.deepcopy(overrides))
    return cfg


def test_cells_switch_only_the_dictionary_momentum_and_end_to_end_batch():
    base = Config.fromfile(DEMO_CONFIG)
    e2e = merged(base, cell_overrides(base, Cell('end_to_end', 64), num_images=100))
    assert e2e.model.dictionary == dict(type='InBatchKeys') and e2e.model.ema_momentum is None
    assert e2e.train_dataloader.batch_size == 64
    assert e2e.optim_wrapper.optimizer.lr == pytest.approx(base.optim_wrapper.optimizer.lr / 4)
    bank = merged(base, cell_overrides(base, Cell('memory_bank', 1024), num_images=100))
    assert bank.model.dictionary == dict(type='MemoryBankKeys', size=100,
                                         num_negatives=1024, dim=128)
    moco = merged(base, cell_overrides(base, Cell('moco', 4096, 0.999), num_images=100))
    assert moco.model.dictionary == dict(type='QueueKeys', queue_length=4096, dim=128)
    assert moco.model.ema_momentum == 0.999
    for cfg in (e2e, bank, moco):  # the same budget and backbone for every cell
        assert cfg.train_cfg == base.train_cfg and cfg.model.backbone == base.model.backbone


def test_a_config_that_is_not_moco_is_named():
    base = Config.fromfile('configs/simclr/simclr_resnet18_1xb256-coslr-1e_fmnist.py')
    with pytest.raises(SystemExit, match='got model.type SimCLR'):
        cell_overrides(base, Cell('moco', 16, 0.99), num_images=10)


@pytest.mark.slow
def test_a_tiny_grid_runs_the_full_protocol_per_seed_and_resumes(tmp_path, capsys):
    config = tiny_config(tmp_path)
    work_dir = tmp_path / 'study'
    argv = [config, '--work-dir', str(work_dir), '--mechanisms', 'memory_bank', 'moco',
            '--sizes', '16', '--momenta', '--seeds', '0', '1', '--jobs', '2',
            '--threads', '1']
    main(argv + ['--max-runs', '2'])
    assert 'running 2 of the 4 pending runs' in capsys.readouterr().out
    summaries = main(argv)
    second = capsys.readouterr().out
    assert 'bank_K16/seed0' not in second and 'moco_K16_m0.99/seed1: knn_top1' in second

    with open(work_dir / 'results.csv') as f:
        rows = {row['run']: row for row in csv.DictReader(f)}
    assert sorted(rows) == ['bank_K16/seed0', 'bank_K16/seed1', 'moco_K16_m0.99/seed0',
                            'moco_K16_m0.99/seed1']
    for run, row in rows.items():  # each row is its run's full-protocol result
        run_dir = work_dir / 'runs' / run
        result = json.loads((run_dir / 'result.json').read_text())
        assert row['status'] == 'done' and (result['num_bank'], result['num_query']) == (64, 32)
        assert float(row['knn_top1']) == pytest.approx(result['knn_top1'])
        run_cfg = Config.fromfile(str(run_dir / 'config.py'))
        assert run_cfg.randomness.seed == int(row['seed'])
        assert run_cfg.model.dictionary.type == (
            'MemoryBankKeys' if run.startswith('bank') else 'QueueKeys')
    bank = next(s for s in summaries if s['cell'] == 'bank_K16')
    knn = [float(rows[f'bank_K16/seed{s}']['knn_top1']) for s in (0, 1)]
    assert bank['seeds'] == '0 1' and bank['knn_top1'] == pytest.approx(sum(knn) / 2)
    assert '± ' in (work_dir / 'results.md').read_text()
    png = cv2.imread(str(work_dir / 'results.png'))
    assert png is not None and png.shape[0] > 100 and png.shape[1] > 100
