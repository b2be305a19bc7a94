"""tools/analysis/labelme_segmentation_runs.py: the per-class table of mmseg's log, the
commands of each seed (pretrain, extract, two fine-tunes), the CSV, and a resumed rerun
that runs only what is missing. The trainings are stood in for (the real chain runs in
tests/test_benchmarks/test_mmseg_transfer.py)."""
import csv
import json
import os
import os.path as osp

import pytest

from tools.analysis import labelme_segmentation_runs as runs

# What mmseg's IoUMetric writes to a run's log (a real one, the numbers changed).
LOG = """12/07 21:41:12 - mmengine - INFO - per class results:
12/07 21:41:12 - mmengine - INFO -
+--------------+-------+-------+
|    Class     |  IoU  |  Acc  |
+--------------+-------+-------+
| _background_ | 91.03 | 96.43 |
|     car      |  0.0  |  0.0  |
|    track     | 54.31 | 68.95 |
+--------------+-------+-------+
12/07 21:41:12 - mmengine - INFO - Iter(val) [2/2]    aAcc: 91.7400  mIoU: 48.4500
"""


def test_the_per_class_table_is_read_from_the_log():
    assert runs.per_class_iou('earlier lines\n' + LOG) == {
        '_background_': 91.03, 'car': 0.0, 'track': 54.31}
    with pytest.raises(ValueError, match='no "per class results:" table'):
        runs.per_class_iou('12/07 - mmengine - INFO - Iter(train) [40/40]')


def _fake_run(calls: list):
    """Record each command; make what the real one would leave for the next steps."""
    def run(command, log_path):
        calls.append(command)
        if '--work-dir' in command and runs.FCN_CONFIG in command:
            run_dir = osp.join(command[command.index('--work-dir') + 1], '20261207_214000')
            os.makedirs(osp.join(run_dir, 'vis_data'))
            with open(osp.join(run_dir, 'vis_data', 'scalars.json'), 'w') as f:
                f.write(json.dumps(dict(loss=0.5, step=40)) + '\n')
                f.write(json.dumps(dict(aAcc=91.74, mIoU=48.45000076, mAcc=55.13, step=40))
                        + '\n')
            with open(osp.join(run_dir, '20261207_214000.log'), 'w') as f:
                f.write(LOG)
        return 12.0
    return run


def test_each_seed_pretrains_once_and_fine_tunes_twice_then_resumes(tmp_path, monkeypatch,
                                                                    capsys):
    calls = []
    monkeypatch.setattr(runs, 'run', _fake_run(calls))
    out, work = str(tmp_path / 'runs.csv'), str(tmp_path / 'work')
    runs.main(['--seeds', '0', '1', '--work-dir', work, '--out', out])
    scripts = [c[1] for c in calls]
    assert scripts == ['tools/dataset_converters/prepare_labelme_segmentation.py'] + [
        'tools/train.py', 'tools/model_converters/extract_backbone.py', 'tools/train.py',
        'tools/train.py'] * 2
    pretrain, extract, mmssl, random = calls[1:5]
    assert runs.PRETRAIN_CONFIG in pretrain and pretrain[-1] == 'randomness.seed=0'
    backbone = osp.join(work, 'seed0', 'pretrain', 'backbone.pth')
    assert extract[-1] == backbone
    assert f'model.backbone.init_cfg.checkpoint={backbone}' in mmssl
    assert 'model.backbone.init_cfg=None' in random and random[-1] == 'randomness.seed=0'

    with open(out, newline='') as f:
        rows = list(csv.DictReader(f))
    assert [(r['seed'], r['init']) for r in rows] == [
        ('0', 'mmssl'), ('0', 'random'), ('1', 'mmssl'), ('1', 'random')]
    assert rows[0]['mIoU'] == '48.45' and rows[0]['IoU.track'] == '54.31'
    assert rows[0]['pretrain_s'] == '24.0' and rows[1]['pretrain_s'] == ''
    assert rows[1]['command'].startswith('python tools/train.py ' + runs.FCN_CONFIG)
    assert '| mmssl | 2 | 48.45 ± 0.00 | 91.03 ± 0.00 | 0.00 ± 0.00 | 54.31 ± 0.00 |' in (
        capsys.readouterr().out)

    # A rerun with a third seed and seed 1's random row lost: only those run.
    with open(out, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=runs.FIELDS)
        writer.writeheader()
        writer.writerows(rows[:3])
    calls.clear()
    runs.main(['--seeds', '0', '1', '2', '--work-dir', work, '--out', out])
    assert [c[1] for c in calls] == [
        'tools/dataset_converters/prepare_labelme_segmentation.py', 'tools/train.py',
        'tools/train.py', 'tools/model_converters/extract_backbone.py', 'tools/train.py',
        'tools/train.py']
    assert 'model.backbone.init_cfg=None' in calls[1] and calls[1][-1] == 'randomness.seed=1'
    with open(out, newline='') as f:
        assert len(list(csv.DictReader(f))) == 6
