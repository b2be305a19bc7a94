"""What tools/setup_env.sh does about the data packages and mmcv, decided from the facts.

Two pure functions hold the decisions (tests/test_install/test_setup_plan.py runs their
tables): ``data_plan`` (install the missing Debian data packages, as root or with sudo, or
stop and say how to do without) and ``mmcv_plan`` (keep the venv's mmcv, install a cached
wheel, build one, or stop and say what is missing). The command line gathers this machine's
facts, prints the decision as one line of words for the shell, and says why on stderr:

    python3 setup_plan.py data           -> "none" | "root PKG..." | "sudo PKG..."
    VENV_PYTHON setup_plan.py mmcv [--ops]
        -> "ACTION KIND VERSION FORCE_CUDA ARCH_LIST WHEEL_DIR" (ACTION: keep, install, build;
           KIND: ops, lite; ARCH_LIST: TORCH_CUDA_ARCH_LIST for the build, '-' for none)

A stop prints "[setup] ERROR: ..." and exits 1. Standard library only; ``mmcv`` runs under
the venv's python because it reads that venv's torch and mmcv.
"""
import argparse
import dataclasses
import glob
import os
import os.path as osp
import platform
import re
import shutil
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PIN_FILE = osp.join(ROOT, 'requirements', 'mminstall.txt')
DEBIAN_FMNIST_ROOT = '/usr/share/datasets/fashion-mnist'
LABELME_EXAMPLES = '/usr/share/doc/labelme-examples/examples'


class SetupError(Exception):
    """A set-up that cannot go on; the message says what to install or set."""


# ---------------------------------------------------------------- data packages
@dataclasses.dataclass(frozen=True)
class DataPlan:
    how: str  # 'none' (nothing to install), 'root' or 'sudo'
    reason: str
    packages: tuple[str, ...] = ()


def data_plan(skip: str | None, missing: tuple[str, ...], is_root: bool,
              has_sudo: bool) -> DataPlan:
    """Install the ``missing`` Debian data packages, or nothing when skipped or present.

    ``skip`` is ``$MMSSL_SKIP_DATA`` (``'1'`` skips, ``'0'``/unset does not).
    """
    if skip not in (None, '', '0', '1'):
        raise SetupError(f"MMSSL_SKIP_DATA must be 0 or 1, got '{skip}'")
    if skip == '1':
        return DataPlan('none', 'MMSSL_SKIP_DATA=1: the Debian data packages are not checked')
    if not missing:
        return DataPlan('none', 'the data is present (dataset-fashion-mnist, labelme-examples)')
    if is_root or has_sudo:
        return DataPlan('root' if is_root else 'sudo', f"installing Debian packages "
                        f"{' '.join(missing)} ({'as root' if is_root else 'with sudo'})", missing)
    raise SetupError(
        f"the data packages {' '.join(missing)} are missing and apt-get needs root or sudo. "
        f"Run as root, or set MMSSL_SKIP_DATA=1 to go on without them; with your own copy "
        f"of Fashion-MNIST (the folder holding train-images-idx3-ubyte.gz), set "
        f"MMSSL_FMNIST_ROOT=/that/folder: the configs read it for fmnist_root and "
        f"knn_fmnist_root (default {DEBIAN_FMNIST_ROOT})")


def gather_missing_data(environ: dict) -> tuple[str, ...]:
    """The Debian data packages whose files are not where the configs look."""
    fmnist = environ.get('MMSSL_FMNIST_ROOT') or DEBIAN_FMNIST_ROOT
    missing = []
    if not osp.isfile(osp.join(fmnist, 'train-images-idx3-ubyte.gz')):
        missing.append('dataset-fashion-mnist')
    if not osp.isdir(LABELME_EXAMPLES):
        missing.append('labelme-examples')
    return tuple(missing)


# ---------------------------------------------------------------- mmcv
@dataclasses.dataclass(frozen=True)
class MmcvFacts:
    want_ops: bool                    # MMSSL_WITH_OPS=1: mmdet's detectors, the test suite
    version: str                      # the pinned onedl-mmcv
    installed: str | None = None      # the venv's onedl-mmcv of that version: 'ops', 'lite'
    cached: frozenset[str] = frozenset()  # cache keys that hold a wheel
    torch_version: str = ''           # without the local part ('2.14.1')
    python_tag: str = ''              # 'cp311'
    machine: str = ''                 # 'x86_64'
    torch_cuda: str | None = None     # torch.version.cuda; None for a CPU-only torch
    gpu_archs: tuple[str, ...] = ()   # compute capabilities of the GPUs torch sees ('8.0',)
    nvcc: str | None = None           # path of the nvcc found
    nvcc_cuda: str | None = None      # its CUDA release ('13.0')
    force_cuda: str | None = None     # $FORCE_CUDA
    arch_list: str | None = None      # $TORCH_CUDA_ARCH_LIST


@dataclasses.dataclass(frozen=True)
class MmcvPlan:
    action: str            # 'keep', 'install' (the cached wheel) or 'build' (then install)
    kind: str              # 'ops' (compiled ops) or 'lite' (without them)
    reason: str
    key: str = ''          # the cache folder of the wheel
    force_cuda: str = '0'  # FORCE_CUDA for the build
    arch_list: str = ''    # TORCH_CUDA_ARCH_LIST for a CUDA build ('' = torch's default)


def mmcv_plan(f: MmcvFacts) -> MmcvPlan:
    """What to do about onedl-mmcv. Never replaces an mmcv with ops by one without."""
    if f.installed == 'ops':
        return MmcvPlan('keep', 'ops', 'the venv has mmcv with its compiled ops: kept')
    if f.installed == 'lite' and not f.want_ops:
        return MmcvPlan('keep', 'lite', 'the venv has mmcv without compiled ops, enough here')
    if not f.want_ops:
        key = f'onedl-mmcv-{f.version}_noops'
        return _fetch(f, key, 'lite', '0', '', 'mmcv without compiled ops (pure Python)')
    cuda = _build_with_cuda(f)
    base = f'onedl-mmcv-{f.version}_torch-{f.torch_version}_{f.python_tag}'
    if not cuda:
        return _fetch(f, f'{base}_cpu_{f.machine}', 'ops', '0', '', 'mmcv with CPU ops')
    archs = _arch_tokens(f.arch_list) if f.arch_list else tuple(sorted(set(f.gpu_archs)))
    arch_tag = '-'.join('sm' + a.replace('.', '') for a in archs) if archs else 'sm-default'
    flavour = 'cu' + f.torch_cuda.replace('.', '')
    gpus = f"compute capabilities {' '.join(archs)}" if archs else "torch's default GPU list"
    what = f'mmcv with CUDA {f.torch_cuda} ops for {gpus}'
    return _fetch(f, f'{base}_{flavour}_{arch_tag}_{f.machine}', 'ops', '1', ';'.join(archs),
                  what)


def _fetch(f: MmcvFacts, key: str, kind: str, force_cuda: str, arch_list: str,
           what: str) -> MmcvPlan:
    if key in f.cached:
        return MmcvPlan('install', kind, f'{what}: cached wheel {key}', key, force_cuda,
                        arch_list)
    return MmcvPlan('build', kind, f'{what}: no cached wheel {key}, building it once', key,
                    force_cuda, arch_list)


def _build_with_cuda(f: MmcvFacts) -> bool:
    """Whether the ops are built with CUDA; raises when that build cannot be done."""
    if f.force_cuda not in (None, '', '0', '1'):
        raise SetupError(f"FORCE_CUDA must be 0 (CPU-only ops) or 1 (CUDA ops) or unset "
                         f"(CUDA when torch sees a GPU), got '{f.force_cuda}'")
    if f.force_cuda == '0':
        return False
    if f.force_cuda == '1':
        if not f.torch_cuda:
            raise SetupError(f'FORCE_CUDA=1 asks for CUDA ops but torch {f.torch_version} is a '
                             f'CPU-only build; unset FORCE_CUDA or install a CUDA torch')
        why = 'FORCE_CUDA=1 asks for CUDA ops'
    elif f.torch_cuda and f.gpu_archs:
        why = f'torch {f.torch_version} has CUDA {f.torch_cuda} and sees a GPU'
    else:
        return False
    if not f.nvcc:
        raise SetupError(
            f"{why}, so mmcv's ops are built with CUDA, but no nvcc was found ($CUDA_HOME/bin, "
            f"PATH, /usr/local/cuda/bin). Install the CUDA toolkit {f.torch_cuda} (the one "
            f"torch.version.cuda names) and put its bin/ on PATH or set CUDA_HOME, or set "
            f"FORCE_CUDA=0 to build CPU-only ops")
    if (f.nvcc_cuda or '').split('.')[0] != f.torch_cuda.split('.')[0]:
        raise SetupError(
            f"{why}, but {f.nvcc} is CUDA {f.nvcc_cuda} and torch was built with CUDA "
            f"{f.torch_cuda}: install the CUDA toolkit {f.torch_cuda} and point CUDA_HOME at "
            f"it, or set FORCE_CUDA=0 to build CPU-only ops")
    return True


def _arch_tokens(arch_list: str) -> tuple[str, ...]:
    """TORCH_CUDA_ARCH_LIST ('8.0;9.0+PTX', '8.0 8.6') as sorted unique entries."""
    return tuple(sorted({a for a in re.split(r'[;,\s]+', arch_list.strip()) if a}))


def pinned_mmcv_version(pin_file: str = PIN_FILE) -> str:
    """The onedl-mmcv version pinned in requirements/mminstall.txt."""
    with open(pin_file) as fh:
        match = re.search(r'^onedl-mmcv==(\S+)', fh.read(), re.MULTILINE)
    if not match:
        raise SetupError(f'{pin_file} pins no onedl-mmcv (a line onedl-mmcv==VERSION)')
    return match.group(1)


def cache_dir(environ: dict) -> str:
    """$MMSSL_CACHE_DIR, else $XDG_CACHE_HOME/mmssl, else ~/.cache/mmssl."""
    xdg = environ.get('XDG_CACHE_HOME') or osp.join(osp.expanduser('~'), '.cache')
    return environ.get('MMSSL_CACHE_DIR') or osp.join(xdg, 'mmssl')


def gather_mmcv_facts(want_ops: bool, environ: dict) -> MmcvFacts:
    """This interpreter's mmcv, torch and GPUs, the nvcc found and the wheels cached."""
    version = pinned_mmcv_version()
    wheels = osp.join(cache_dir(environ), 'wheels')
    cached = frozenset(key for key in (os.listdir(wheels) if osp.isdir(wheels) else [])
                       if glob.glob(osp.join(wheels, key, 'onedl_mmcv-*.whl')))
    facts = MmcvFacts(want_ops, version, _installed_mmcv(version), cached,
                      force_cuda=environ.get('FORCE_CUDA'),
                      arch_list=environ.get('TORCH_CUDA_ARCH_LIST'))
    if not want_ops:
        return facts
    import torch
    archs = tuple(sorted({'%d.%d' % torch.cuda.get_device_capability(i)
                          for i in range(torch.cuda.device_count())})
                  ) if torch.cuda.is_available() else ()
    nvcc = _find_nvcc(environ)
    return dataclasses.replace(
        facts, torch_version=torch.__version__.split('+')[0],
        python_tag=f'cp{sys.version_info.major}{sys.version_info.minor}',
        machine=platform.machine(), torch_cuda=torch.version.cuda, gpu_archs=archs,
        nvcc=nvcc, nvcc_cuda=_nvcc_release(nvcc) if nvcc else None)


def _installed_mmcv(version: str) -> str | None:
    """'ops' when the venv's onedl-mmcv is ``version`` and its ops load, 'lite' without ops."""
    from importlib import import_module, metadata
    try:
        dist = metadata.distribution('onedl-mmcv')
    except metadata.PackageNotFoundError:
        return None
    if dist.version != version:
        return None
    if not any(str(p).startswith('mmcv/_ext') for p in dist.files or []):
        return 'lite'
    try:
        import_module('torch')
        import_module('mmcv._ext')
    except ImportError as err:
        print(f'[setup] the installed mmcv ops do not load ({err}): replacing them',
              file=sys.stderr)
        return None
    return 'ops'


def _find_nvcc(environ: dict) -> str | None:
    """nvcc where torch's extension builder looks: $CUDA_HOME, PATH, /usr/local/cuda."""
    home = environ.get('CUDA_HOME') or environ.get('CUDA_PATH')
    candidates = [osp.join(home, 'bin', 'nvcc')] if home else []
    candidates += [shutil.which('nvcc', path=environ.get('PATH')) or '',
                   '/usr/local/cuda/bin/nvcc']
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def _nvcc_release(nvcc: str) -> str | None:
    out = subprocess.run([nvcc, '--version'], capture_output=True, text=True).stdout
    match = re.search(r'release (\d+\.\d+)', out)
    return match.group(1) if match else None


# ---------------------------------------------------------------- command line
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest='what', required=True)
    sub.add_parser('data', help='which Debian data packages to install, and how')
    mmcv = sub.add_parser('mmcv', help="what to do about onedl-mmcv (run by the venv's python)")
    mmcv.add_argument('--ops', action='store_true', help='mmcv with its compiled ops is needed')
    args = parser.parse_args(argv)
    environ = dict(os.environ)
    try:
        if args.what == 'data':
            plan = data_plan(environ.get('MMSSL_SKIP_DATA'), gather_missing_data(environ),
                             os.geteuid() == 0, shutil.which('sudo') is not None)
            print(f'[setup] {plan.reason}', file=sys.stderr)
            print(' '.join((plan.how,) + plan.packages))
            return 0
        facts = gather_mmcv_facts(args.ops, environ)
        plan = mmcv_plan(facts)
    except SetupError as err:
        print(f'[setup] ERROR: {err}', file=sys.stderr)
        return 1
    print(f'[setup] {plan.reason}', file=sys.stderr)
    wheel_dir = osp.join(cache_dir(environ), 'wheels', plan.key) if plan.key else '-'
    print(plan.action, plan.kind, facts.version, plan.force_cuda, plan.arch_list or '-',
          wheel_dir)
    return 0


if __name__ == '__main__':
    sys.exit(main())
