"""The set-up's decisions (tools/install/setup_plan.py): data packages and which mmcv."""
import ast
import dataclasses
import glob
import os
import os.path as osp
import subprocess
import sys

import pytest

from tests._helpers import REPO_ROOT
from tools.install.setup_plan import (DataPlan, MmcvFacts, MmcvPlan, SetupError, cache_dir,
                                      data_plan, gather_missing_data, mmcv_plan,
                                      pinned_mmcv_version)

PLAN_SCRIPT = osp.join(REPO_ROOT, 'tools/install/setup_plan.py')
CPU_KEY = 'onedl-mmcv-2.3.6_torch-2.14.1_cp311_cpu_x86_64'  # the layout caches already hold
LITE_KEY = 'onedl-mmcv-2.3.6_noops'
# A CUDA torch on an x86_64 machine, as pip installs it here; GPUs and nvcc per case.
TORCH = dict(version='2.3.6', torch_version='2.14.1', python_tag='cp311', machine='x86_64',
             torch_cuda='13.0')
NVCC = dict(nvcc='/usr/local/cuda/bin/nvcc', nvcc_cuda='13.0')


def facts(**kw) -> MmcvFacts:
    return MmcvFacts(**{'want_ops': True, **TORCH, **kw})


MMCV_CASES = {
    # never downgrade: an mmcv with ops stays, whether or not they are asked for
    'ops installed, demo': (facts(want_ops=False, installed='ops'), ('keep', 'ops', '')),
    'ops installed, tests': (facts(installed='ops'), ('keep', 'ops', '')),
    'lite installed, demo': (facts(want_ops=False, installed='lite'), ('keep', 'lite', '')),
    # a demo set-up followed by the test command: the ops come in
    'lite installed, tests, cached': (facts(installed='lite', cached=frozenset({CPU_KEY})),
                                      ('install', 'ops', CPU_KEY)),
    'fresh demo': (facts(want_ops=False), ('build', 'lite', LITE_KEY)),
    'fresh demo, cached': (facts(want_ops=False, cached=frozenset({LITE_KEY, CPU_KEY})),
                           ('install', 'lite', LITE_KEY)),
    'fresh tests': (facts(), ('build', 'ops', CPU_KEY)),
    # a CUDA torch that sees no GPU builds the CPU ops, with or without nvcc
    'cuda torch, no gpu, no nvcc': (facts(), ('build', 'ops', CPU_KEY)),
    'cuda torch, no gpu, nvcc': (facts(**NVCC), ('build', 'ops', CPU_KEY)),
    'gpu, no nvcc, FORCE_CUDA=0': (facts(gpu_archs=('8.0',), force_cuda='0'),
                                   ('build', 'ops', CPU_KEY)),
    'gpu and nvcc': (
        facts(gpu_archs=('9.0', '8.0', '9.0'), **NVCC),
        ('build', 'ops', 'onedl-mmcv-2.3.6_torch-2.14.1_cp311_cu130_sm80-sm90_x86_64')),
    'TORCH_CUDA_ARCH_LIST wins over the GPUs': (
        facts(gpu_archs=('8.0',), arch_list='9.0; 8.6+PTX', **NVCC),
        ('build', 'ops', 'onedl-mmcv-2.3.6_torch-2.14.1_cp311_cu130_sm86+PTX-sm90_x86_64')),
    'FORCE_CUDA=1, no gpu, no arch list': (
        facts(force_cuda='1', **NVCC),
        ('build', 'ops', 'onedl-mmcv-2.3.6_torch-2.14.1_cp311_cu130_sm-default_x86_64')),
}


@pytest.mark.parametrize('name', MMCV_CASES)
def test_mmcv_plan(name):
    given, (action, kind, key) = MMCV_CASES[name]
    plan = mmcv_plan(given)
    assert (plan.action, plan.kind, plan.key) == (action, kind, key)


def test_cuda_build_passes_its_flags_and_architectures_to_the_build():
    plan = mmcv_plan(facts(gpu_archs=('8.0',), arch_list='9.0;8.0', **NVCC))
    assert (plan.force_cuda, plan.arch_list) == ('1', '8.0;9.0')
    assert mmcv_plan(facts(force_cuda='1', **NVCC)).arch_list == ''  # torch's default list
    assert mmcv_plan(facts()).force_cuda == '0'


def test_cuda_key_changes_with_the_cuda_version_and_the_architectures():
    gpu = facts(gpu_archs=('8.0',), **NVCC)
    keys = {mmcv_plan(gpu).key,
            mmcv_plan(dataclasses.replace(gpu, gpu_archs=('9.0',))).key,
            mmcv_plan(dataclasses.replace(gpu, torch_cuda='13.1', nvcc_cuda='13.1')).key}
    assert len(keys) == 3


MMCV_ERRORS = {
    'gpu, no nvcc': (facts(gpu_archs=('8.0',)),
                     ['no nvcc was found', 'CUDA toolkit 13.0', 'FORCE_CUDA=0']),
    'FORCE_CUDA=1, no nvcc': (facts(force_cuda='1'), ['FORCE_CUDA=1', 'no nvcc', 'FORCE_CUDA=0']),
    'FORCE_CUDA=1, CPU torch': (facts(force_cuda='1', torch_cuda=None, **NVCC),
                                ['FORCE_CUDA=1', 'CPU-only build']),
    'nvcc of another CUDA': (facts(gpu_archs=('8.0',), nvcc='/opt/cuda-12.4/bin/nvcc',
                                   nvcc_cuda='12.4'),
                             ['/opt/cuda-12.4/bin/nvcc is CUDA 12.4', 'CUDA 13.0', 'FORCE_CUDA=0']),
    'FORCE_CUDA=yes': (facts(force_cuda='yes'), ["FORCE_CUDA must be 0", "got 'yes'"]),
}


@pytest.mark.parametrize('name', MMCV_ERRORS)
def test_mmcv_plan_stops_and_says_what_to_do(name):
    given, phrases = MMCV_ERRORS[name]
    with pytest.raises(SetupError) as err:
        mmcv_plan(given)
    for phrase in phrases:
        assert phrase in str(err.value)


def test_mmcv_without_ops_needs_no_torch_facts():
    plan = mmcv_plan(MmcvFacts(want_ops=False, version='2.3.6', force_cuda='yes'))
    assert plan == MmcvPlan('build', 'lite', plan.reason, LITE_KEY)


PKGS = ('dataset-fashion-mnist', 'labelme-examples')
DATA_CASES = {
    'present': ((None, (), False, False), ('none', ())),
    'skipped': (('1', PKGS, False, False), ('none', ())),
    'root': (('0', PKGS, True, False), ('root', PKGS)),
    'sudo': (('', PKGS[:1], False, True), ('sudo', PKGS[:1])),
}


@pytest.mark.parametrize('name', DATA_CASES)
def test_data_plan(name):
    args, (how, packages) = DATA_CASES[name]
    plan = data_plan(*args)
    assert (plan.how, plan.packages) == (how, packages)


def test_data_plan_without_root_or_sudo_names_the_ways_out():
    with pytest.raises(SetupError) as err:
        data_plan(None, PKGS[:1], is_root=False, has_sudo=False)
    for phrase in ('dataset-fashion-mnist', 'MMSSL_SKIP_DATA=1', 'MMSSL_FMNIST_ROOT',
                   'fmnist_root', 'knn_fmnist_root'):
        assert phrase in str(err.value)
    with pytest.raises(SetupError, match="MMSSL_SKIP_DATA must be 0 or 1, got 'yes'"):
        data_plan('yes', (), True, False)
    assert isinstance(data_plan('1', (), False, False), DataPlan)


def test_fashion_mnist_is_looked_for_where_MMSSL_FMNIST_ROOT_says(tmp_path):
    env = {'MMSSL_FMNIST_ROOT': str(tmp_path)}
    assert 'dataset-fashion-mnist' in gather_missing_data(env)
    (tmp_path / 'train-images-idx3-ubyte.gz').write_bytes(b'')
    assert 'dataset-fashion-mnist' not in gather_missing_data(env)


def test_the_configs_read_MMSSL_FMNIST_ROOT(tmp_path):
    """The variable the set-up's error names is the one every Fashion-MNIST config reads."""
    from mmengine.config import Config
    config = osp.join(REPO_ROOT, 'configs/mocov2/mocov2_resnet18_1xb256-coslr-2e_fmnist.py')
    code = ('import sys; from mmengine.config import Config; c = Config.fromfile(sys.argv[1]); '
            'print(c.train_dataloader.dataset.data_root, c.test_dataloader.dataset.bank.data_root,'
            ' c.custom_hooks[0].dataloader.dataset.query.data_root)')
    out = subprocess.run([sys.executable, '-c', code, config], capture_output=True, text=True,
                         env=dict(os.environ, MMSSL_FMNIST_ROOT=str(tmp_path)), check=True)
    assert out.stdout.splitlines()[-1].split() == [str(tmp_path)] * 3  # after mmengine's log
    assert Config.fromfile(config).fmnist_root == '/usr/share/datasets/fashion-mnist'


def test_cache_dir_and_pin():
    assert cache_dir({'MMSSL_CACHE_DIR': '/c', 'XDG_CACHE_HOME': '/x'}) == '/c'
    assert cache_dir({'XDG_CACHE_HOME': '/x'}) == '/x/mmssl'
    with open(osp.join(REPO_ROOT, 'requirements/mminstall.txt')) as fh:
        assert f'onedl-mmcv=={pinned_mmcv_version()}\n' in fh.read()


def test_the_command_line_on_this_venv(tmp_path):
    """The demo keeps this venv's mmcv, whichever it is; the tests keep or bring the ops."""
    import importlib.util
    has_ops = importlib.util.find_spec('mmcv._ext') is not None
    env = dict(os.environ, MMSSL_CACHE_DIR=str(tmp_path))  # an empty cache

    def plan(*flags):
        return subprocess.run([sys.executable, PLAN_SCRIPT, 'mmcv', *flags], env=env,
                              capture_output=True, text=True, check=True).stdout.split()
    assert plan()[:2] == ['keep', 'ops' if has_ops else 'lite']
    assert plan('--ops')[:2] == ['keep' if has_ops else 'build', 'ops']


def test_the_command_line_stops_with_the_error(tmp_path):
    env = dict(os.environ, MMSSL_SKIP_DATA='maybe')
    out = subprocess.run([sys.executable, PLAN_SCRIPT, 'data'], env=env, capture_output=True,
                         text=True)
    assert out.returncode == 1 and out.stdout == ''
    assert "[setup] ERROR: MMSSL_SKIP_DATA must be 0 or 1, got 'maybe'" in out.stderr


def test_setup_env_rejects_a_bad_MMSSL_WITH_OPS():
    out = subprocess.run(['bash', osp.join(REPO_ROOT, 'tools/setup_env.sh')],
                         env=dict(os.environ, MMSSL_WITH_OPS='yes'), capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 1 and "MMSSL_WITH_OPS must be 0 or 1, got 'yes'" in out.stderr


def test_mmssl_imports_no_mmcv_ops_and_no_mmdet_outside_mmssl_det():
    """Why the demo's mmcv needs no compiled ops: only mmdet's detectors use them. The one
    exception is the probe that tells a user of an mmdet config to build them."""
    probe = 'mmssl/apis/runner.py: mmcv.ops'  # require_compiled_ops: import mmcv.ops in a try
    offenders = []
    for path in glob.glob(osp.join(REPO_ROOT, 'mmssl', '**', '*.py'), recursive=True):
        rel = osp.relpath(path, REPO_ROOT)
        with open(path) as fh:
            tree = ast.parse(fh.read())
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [f'{node.module}.{a.name}' for a in node.names]
                     if isinstance(node, ast.ImportFrom) and not node.level else [])
            for name in names:
                if name.startswith('mmcv.ops') or (name.startswith('mmdet')
                                                   and not rel.startswith('mmssl/det/')):
                    offenders.append(f'{rel}: {name}')
    assert offenders in ([], [probe]), offenders
