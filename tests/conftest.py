"""Shared fixtures (helpers live in tests/_helpers.py)."""
import os
import os.path as osp
import sys

import pytest
import torch

from tests._helpers import FASHION_MNIST_ROOT, REPO_ROOT

# Tests run on the CPU with few threads: the suite's timing must not depend on the host.
torch.set_num_threads(min(2, os.cpu_count() or 1))
sys.path.insert(0, REPO_ROOT)  # for `projects.*` plugins and `tools`


@pytest.fixture(scope='session')
def fashion_mnist_root() -> str:
    if not osp.isfile(osp.join(FASHION_MNIST_ROOT, 'train-images-idx3-ubyte.gz')):
        pytest.fail(f'Fashion-MNIST not found in {FASHION_MNIST_ROOT}: run tools/setup_env.sh '
                    f'(apt-get install dataset-fashion-mnist)')
    return FASHION_MNIST_ROOT


@pytest.fixture(autouse=True)
def _mmssl_scope():
    """Every test builds through mmssl's registries, as the runner does."""
    from mmssl.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    yield
