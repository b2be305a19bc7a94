"""model-index.yml lists every config (configs/<algorithm>/metafile.yml, written by
tools/analysis/write_metafiles.py) and the zoo's measured results (configs/zoo/metafile.yml,
written by tools/analysis/zoo_report.py)."""
import os.path as osp

import pytest
from modelindex.load_model_index import load

from tests._helpers import REPO_ROOT
from tools.analysis.write_metafiles import config_entry, index_files, stale_files


def test_the_model_index_is_up_to_date():
    stale = stale_files(index_files())
    assert not stale, (f'out of date: {stale}; run python tools/analysis/write_metafiles.py '
                       f'(tools/analysis/zoo_report.py rewrites model-index.yml as well)')


def test_the_model_index_lists_every_config_and_the_zoo_results():
    index = load(osp.join(REPO_ROOT, 'model-index.yml'))  # as mim reads it
    names = [m.name for m in index.models]
    assert len(names) == len(set(names)), 'model names must be unique across metafiles'
    configs = {m.config for m in index.models}
    assert 'configs/mocov2/mocov2_resnet50_8xb32-coslr-200e_in1k.py' in configs
    assert all(osp.isfile(osp.join(REPO_ROOT, c)) for c in configs)
    measured = [m for m in index.models if m.results]
    assert measured and all(m.filepath.endswith('configs/zoo/metafile.yml') for m in measured)


def test_a_config_entry_comes_from_the_name():
    entry = config_entry('mocov3', 'configs/mocov3/mocov3_resnet50_8xb512-amp-coslr-100e_in1k.py')
    assert entry['Metadata'] == {'Training Data': 'ImageNet-1k', 'Epochs': 100,
                                 'Batch Size': 4096}
    with pytest.raises(ValueError, match=r"unknown data 'mnist'"):
        config_entry('mocov2', 'mocov2_resnet18_1xb256-coslr-2e_mnist.py')
