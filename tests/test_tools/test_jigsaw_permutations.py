"""tools/analysis/jigsaw_permutations.py and the permutation sets stored with the configs."""
import glob
import os.path as osp

import numpy as np

from mmssl.datasets.transforms import load_permutations, max_hamming_permutations
from tests._helpers import REPO_ROOT
from tools.analysis.jigsaw_permutations import hamming_stats, main


def test_tool_writes_a_loadable_set(tmp_path, capsys):
    out = str(tmp_path / 'sub' / 'perms.npy')
    perms = main(['--num', '20', '--out', out, '--seed', '1'])
    np.testing.assert_array_equal(load_permutations(out), perms)
    np.testing.assert_array_equal(perms, max_hamming_permutations(20, seed=1))
    low, mean = hamming_stats(perms)
    assert f'min Hamming distance {low}, mean {mean:.2f}' in capsys.readouterr().out
    assert low >= 7 and not glob.glob(str(tmp_path / 'sub' / '*.tmp*'))


def test_stored_sets_are_the_tools_output():
    stored = sorted(glob.glob(osp.join(REPO_ROOT, 'configs/jigsaw/permutations_*.npy')))
    assert [osp.basename(p) for p in stored] == ['permutations_1000_maxmin-hamming.npy',
                                                 'permutations_100_maxmin-hamming.npy']
    perms = load_permutations(stored[1])
    np.testing.assert_array_equal(perms, max_hamming_permutations(100))
    assert hamming_stats(perms)[0] == 6
    big = load_permutations(stored[0])  # distinct rows checked by load_permutations
    assert big.shape == (1000, 9) and hamming_stats(big)[0] == 5
