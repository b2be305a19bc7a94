"""tools/benchmark/throughput.py: a CPU smoke test of the five rows, and its data errors."""
import json
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch

from tests._helpers import REPO_ROOT
from mmengine.config import Config

from tools.benchmark.throughput import main as throughput_main
from tools.benchmark.throughput import scale_sizes, set_amp, set_compile, view_size

TOOL = osp.join(REPO_ROOT, 'tools', 'benchmark', 'throughput.py')
DEVAUG_CONFIG = osp.join(
    REPO_ROOT, 'configs/mocov2/mocov2_resnet50-devaug_1xb256-amp-coslr-200e_in1k.py')
CPU_PIPELINE_CONFIG = osp.join(REPO_ROOT, 'configs/mocov2/mocov2_resnet50_8xb32-coslr-200e_in1k.py')
ROWS = ('ceiling', 'mmssl', 'peer', 'mmssl-loader', 'peer-loader')


@pytest.mark.parametrize('config', [DEVAUG_CONFIG, CPU_PIPELINE_CONFIG],
                         ids=['devaug', 'cpu-pipeline'])
def test_all_rows_on_the_cpu(tmp_path, config):
    """ResNet-18, 32-px views, batch 4, 1 + 2 iterations: about 15 s each on 2 cores.

    ``--no-compile``: the device-augmentation config compiles its backbones, which takes
    a minute on 2 CPU cores (test_compile_switch checks what the switch does)."""
    out = tmp_path / 'out.json'
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run(
        [sys.executable, TOOL, '--make-data', '8', '--depth', '18', '--batch-size', '4',
         '--iters', '2', '--warmup', '1', '--workers', '0', '--image-size', '32',
         '--device', 'cpu', '--no-compile', '--config', config, '--out', str(out)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(out.read_text())

    assert result['device_type'] == 'cpu' and result['view_size'] == 32
    rows = result['rows']
    assert tuple(rows) == ROWS
    for name, row in rows.items():
        assert row['img_per_s'] > 0, name
        assert row['img_per_s'] == pytest.approx(4 * 2 / row['seconds'])
        assert row['peak_memory_gib'] is None  # no GPU
    for name in ROWS[1:]:
        assert rows[name]['images'] == 8
    # the peer's pipeline crops both views to --image-size, in the workers
    assert rows['peer']['loader_output'] == [[4, 3, 32, 32]] * 2
    assert rows['peer-loader']['loader_output'] == [[4, 3, 32, 32]] * 2
    # the device-augmentation loader delivers one decoded batch, bounded to 73 px (512 x 32/224)
    if config == DEVAUG_CONFIG:
        for name in ('mmssl', 'mmssl-loader'):
            (shape,) = rows[name]['loader_output']
            assert shape[:2] == [4, 3] and max(shape[2:]) == 73, (name, shape)
    for name in ('mmssl-loader', 'peer-loader'):
        assert (rows[name]['precision'], rows[name]['compile']) == ('-', '-')
    assert set(result['ratios']) == {
        'mmssl/peer', 'mmssl/ceiling', 'peer/ceiling', 'mmssl-loader/peer-loader',
        'mmssl-loader/ceiling', 'peer-loader/ceiling'}
    for key, value in result['ratios'].items():
        top, bottom = key.split('/')
        assert value == pytest.approx(rows[top]['img_per_s'] / rows[bottom]['img_per_s'])
    # the markdown table: one line per row, and the command
    table_rows = [line for line in proc.stdout.splitlines() if line.startswith('| ')]
    assert [line.split('|')[1].strip() for line in table_rows[2:]] == list(ROWS)
    assert f'--out {out}' in proc.stdout


def test_a_failing_row_is_reported_and_the_others_measured(tmp_path):
    # A GPU run is scarce: a row that fails (here the peer, whose model cannot be built)
    # leaves the others' figures, shows as failed in the table, and the exit status is 1.
    broken = tmp_path / 'broken_peer.py'
    broken.write_text("_base_ = 'mmpretrain::mocov2/mocov2_resnet50_8xb32-coslr-200e_in1k.py'\n"
                      "model = dict(type='NoSuchModel')\n")
    proc = subprocess.run(
        [sys.executable, TOOL, '--make-data', '4', '--depth', '18', '--batch-size', '2',
         '--iters', '1', '--warmup', '1', '--workers', '0', '--image-size', '32',
         '--device', 'cpu', '--rows', 'peer,mmssl-loader', '--peer-config', str(broken),
         '--out', str(tmp_path / 'out.json')],
        cwd=tmp_path, env=dict(os.environ, OMP_NUM_THREADS='1'), capture_output=True,
        text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads((tmp_path / 'out.json').read_text())
    assert list(result['rows']) == ['mmssl-loader']
    assert result['rows']['mmssl-loader']['img_per_s'] > 0
    assert 'NoSuchModel' in result['failed']['peer']
    assert re.search(r'^\| peer \| .* \| failed: .*NoSuchModel', proc.stdout, re.M)
    assert 'Traceback' in proc.stderr


def test_data_errors_name_the_folder(tmp_path):
    missing = tmp_path / 'missing'
    with pytest.raises(SystemExit, match=re.escape(f"--data: '{missing}' is not a folder")):
        throughput_main(['--data', str(missing), '--rows', 'peer'])
    empty = tmp_path / 'empty'
    (empty / 'sub').mkdir(parents=True)
    (empty / 'sub' / 'notes.txt').write_text('not an image')
    with pytest.raises(SystemExit, match=re.escape(f"--data: '{empty}' holds no image")):
        throughput_main(['--data', str(empty), '--rows', 'peer'])


def test_row_selection_is_checked():
    with pytest.raises(SystemExit):
        throughput_main(['--make-data', '1', '--rows', 'mmssl,gpu'])


def test_image_size_scales_cpu_and_device_sizes_alike():
    cfg = Config.fromfile(DEVAUG_CONFIG)
    assert view_size(cfg) == 224
    scale_sizes(cfg, 32)  # x 1/7
    assert cfg.train_dataloader.dataset.pipeline[1] == dict(type='ResizeToFit', max_size=73)
    assert cfg.data_preprocessor.device_views[0].size == 32
    assert view_size(cfg) == 32
    cfg = Config.fromfile(CPU_PIPELINE_CONFIG)
    scale_sizes(cfg, 96)
    crop = cfg.train_dataloader.dataset.pipeline[1].transforms[0][0]
    assert (crop.type, crop.scale) == ('RandomResizedCrop', 96)


def test_compile_switch():
    cfg = Config.fromfile(DEVAUG_CONFIG)
    assert set_compile(cfg, None) == 'backbones (CompileBackbonesHook)'
    assert set_compile(cfg, False) == 'no'
    assert cfg.custom_hooks == []
    assert set_compile(cfg, True) == 'backbones (CompileBackbonesHook)'
    assert [hook.type for hook in cfg.custom_hooks] == ['CompileBackbonesHook']
    assert cfg.default_hooks.momentum_update.type == 'MomentumUpdateHook'  # always there


def test_precision_switch():
    cfg = Config.fromfile(DEVAUG_CONFIG)
    assert set_amp(cfg, None, cuda=False) == 'AutocastOptimWrapper bfloat16 (config)'
    assert set_amp(cfg, False, cuda=False) == 'fp32'
    assert cfg.optim_wrapper.type == 'OptimWrapper' and 'dtype' not in cfg.optim_wrapper
    assert set_amp(cfg, True, cuda=True).startswith('bf16 autocast')
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == dict(enabled=False)
    # mmengine's AmpOptimWrapper cannot run without CUDA: fp32 there
    assert set_amp(cfg, None, cuda=False).startswith('fp32')
    with pytest.raises(SystemExit, match='need CUDA'):
        set_amp(Config.fromfile(CPU_PIPELINE_CONFIG), True, cuda=False)


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the refusal without CUDA')
def test_gpu_checks_script_refuses_without_cuda(tmp_path):
    """tools/benchmark/gpu_checks.sh stops at once, saying why, before measuring anything."""
    proc = subprocess.run(
        ['bash', osp.join(REPO_ROOT, 'tools', 'benchmark', 'gpu_checks.sh'), str(tmp_path)],
        env=dict(os.environ, PYTHON=sys.executable), capture_output=True, text=True,
        timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert 'no CUDA device visible' in (tmp_path / 'steps.log').read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ['steps.log']
