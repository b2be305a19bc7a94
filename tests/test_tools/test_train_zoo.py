"""tools/analysis/train_zoo.py and sweep.py: tiny zoos and sweeps run for real (training in
its own process, the full protocol's evaluation), read back on a second call, reported."""
import csv
import json
import os
import os.path as osp

import pytest
import yaml
from mmengine.config import Config

from tests._helpers import DEMO_CONFIG, REPO_ROOT, tiny_run_overrides, write_config
from tools.analysis import sweep, train_zoo
from tools.analysis.budget_runs import set_epochs

ZOO_FILE = osp.join(REPO_ROOT, 'configs', 'zoo', 'fashion_mnist.py')


def tiny_config(tmp_path) -> str:
    """The demo, 1 epoch on 32 images; the protocol on 64 bank and 32 query images."""
    overrides = tiny_run_overrides('unused')
    overrides.pop('work_dir')
    knn = Config.fromfile(DEMO_CONFIG).knn_dataloader
    knn.dataset.bank.indices, knn.dataset.query.indices = 64, 32
    knn.num_workers = 0
    return write_config(str(tmp_path / 'tiny.py'), DEMO_CONFIG,
                        dict(overrides, knn_dataloader=knn.to_dict()))


def tiny_zoo(tmp_path, config: str) -> str:
    out = tmp_path / 'report'
    values = dict(
        dataset='Fashion-MNIST',
        resources='test', raw_pixels_knn=84.07, results=str(out / 'results.csv'),
        markdown=str(out / 'zoo.md'), metafile=str(out / 'metafile.yml'),
        plot=str(out / 'knn.png'), model_index=str(out / 'model-index.yml'),
        rows=[dict(name='random', config=osp.relpath(config, REPO_ROOT), seeds=[0, 1],
                   pretrain=False),
              dict(name='tiny-moco', config=osp.relpath(config, REPO_ROOT), seeds=[0],
                   main=True)])
    path = tmp_path / 'zoo.py'
    path.write_text('\n'.join(f'{k} = {v!r}' for k, v in values.items()) + '\n')
    return str(path)


def test_the_shipped_zoo_lists_existing_configs_once():
    zoo = train_zoo.load_zoo(ZOO_FILE)
    assert zoo.rows and all(row['seeds'] for row in zoo.rows)
    for row in zoo.rows:  # every recipe trains within the budget's epochs
        assert Config.fromfile(osp.join(REPO_ROOT, row['config'])).train_cfg.max_epochs


def test_bad_zoo_rows_name_the_row(tmp_path):
    path = tmp_path / 'zoo.py'
    path.write_text("rows = [dict(name='a', config='configs/none.py', seeds=[0])]\n")
    with pytest.raises(SystemExit, match="row 'a': config configs/none.py not found"):
        train_zoo.load_zoo(str(path))


def test_a_rows_prepare_command_runs_once_and_must_make_its_file(tmp_path):
    made = tmp_path / 'codebook.pth'
    row = dict(name='beit', prepare=dict(
        command=['-c', f'open({str(made)!r}, "a").write("x")'], creates=str(made)))
    train_zoo.prepare_row(row)
    train_zoo.prepare_row(row)  # the file exists: not run again
    assert made.read_text() == 'x'
    missing = dict(name='beit', prepare=dict(command=['-c', 'pass'],
                                             creates=str(tmp_path / 'none.pth')))
    with pytest.raises(SystemExit, match="row 'beit': its prepare command did not make"):
        train_zoo.prepare_row(missing)


@pytest.mark.slow
def test_a_tiny_zoo_trains_evaluates_reports_and_resumes(tmp_path):
    zoo_file = tiny_zoo(tmp_path, tiny_config(tmp_path))
    zoo_dir = tmp_path / 'zoo'
    train_zoo.main([zoo_file, '--zoo-dir', str(zoo_dir), '--jobs', '2', '--threads', '1'])
    with open(tmp_path / 'report' / 'results.csv') as f:
        rows = {row['run']: row for row in csv.DictReader(f)}
    assert sorted(rows) == ['random/seed0', 'random/seed1', 'tiny-moco/seed0']
    assert all(row['status'] == 'done' for row in rows.values())
    assert rows['random/seed0']['knn_top1'] != rows['random/seed1']['knn_top1']  # seeded
    assert float(rows['tiny-moco/seed0']['train_seconds']) > 0
    assert float(rows['random/seed0']['train_seconds']) == 0
    result = json.loads((zoo_dir / 'tiny-moco' / 'seed0' / 'result.json').read_text())
    assert (result['num_bank'], result['num_query']) == (64, 32)
    checkpoint = (zoo_dir / 'tiny-moco' / 'seed0' / 'last_checkpoint').read_text().strip()
    assert checkpoint.endswith('epoch_1.pth') and osp.isfile(checkpoint)

    page = (tmp_path / 'report' / 'zoo.md').read_text()
    knn = [float(rows[f'random/seed{s}']['knn_top1']) for s in (0, 1)]
    assert f'{sum(knn) / 2:.2f} ± ' in page and 'train_zoo.py' in page
    meta = yaml.safe_load((tmp_path / 'report' / 'metafile.yml').read_text())
    model = next(m for m in meta['Models'] if m['Name'] == 'tiny-moco')
    assert model['Results'][0]['Metrics']['kNN Top 1 Accuracy'] == float(
        rows['tiny-moco/seed0']['knn_top1'])
    index = yaml.safe_load((tmp_path / 'report' / 'model-index.yml').read_text())
    assert index == {'Import': [str(tmp_path / 'report' / 'metafile.yml')]}
    assert (tmp_path / 'report' / 'knn.png').stat().st_size > 0

    # A second call trains and evaluates nothing: every run is read back.
    stamp = osp.getmtime(zoo_dir / 'tiny-moco' / 'seed0' / 'result.json')
    os.remove(tmp_path / 'report' / 'results.csv')  # even without the CSV (result.json)
    train_zoo.main([zoo_file, '--zoo-dir', str(zoo_dir)])
    assert osp.getmtime(zoo_dir / 'tiny-moco' / 'seed0' / 'result.json') == stamp
    with open(tmp_path / 'report' / 'results.csv') as f:
        assert {row['run']: row for row in csv.DictReader(f)} == rows


def test_sweep_variants_and_grid():
    args = sweep.parse_args(['c.py', '--work-dir', 'w', '--out', 'o.csv',
                             '--variant', 'base', '--variant', 'hot', 'model.head.temperature=1',
                             '--grid', 'a.scale=(0.2,1.0),(0.5,1.0)', 'b=1,2'])
    runs = sweep.variants(args)
    assert len(runs) == 8
    assert runs['scale=(0.2,1.0)_b=1'] == {'a.scale': (0.2, 1.0), 'b': 1}
    assert runs['hot_scale=(0.5,1.0)_b=2'] == {'model.head.temperature': 1,
                                               'a.scale': (0.5, 1.0), 'b': 2}
    with pytest.raises(SystemExit, match='key=value'):
        sweep.parse_override('no-value')


def test_set_epochs_stretches_the_schedulers_that_end_with_training():
    cfg = Config(dict(train_cfg=dict(max_epochs=2), param_scheduler=[
        dict(type='LinearLR', by_epoch=True, begin=0, end=1),
        dict(type='CosineAnnealingLR', T_max=1, by_epoch=True, begin=1, end=2)]))
    set_epochs(cfg, 8)
    assert cfg.param_scheduler[0]['end'] == 1  # the warm-up keeps its length
    assert (cfg.param_scheduler[1]['end'], cfg.param_scheduler[1]['T_max']) == (8, 7)


@pytest.mark.slow
def test_a_sweep_records_each_variant_with_its_overrides(tmp_path):
    config = tiny_config(tmp_path)
    out = tmp_path / 'sweep.csv'
    sweep.main([config, '--work-dir', str(tmp_path / 'runs'), '--out', str(out),
                '--variant', 'hot', 'model.head.temperature=0.5', '--epochs', '2'])
    run_config = Config.fromfile(tmp_path / 'runs' / 'hot' / 'seed0' / 'config.py')
    assert run_config.model.head.temperature == 0.5 and run_config.train_cfg.max_epochs == 2
    assert run_config.param_scheduler[0]['end'] == 2 and run_config.custom_hooks == []
    with open(out) as f:
        (row, ) = list(csv.DictReader(f))
    assert row['run'] == 'hot/seed0' and row['status'] == 'done' and row['epochs'] == '2'
    assert json.loads(row['overrides']) == {'model.head.temperature': 0.5}
