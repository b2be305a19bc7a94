"""tools/benchmark/shuffle_bn.py runs both Shuffling BN paths and plain BN."""
from tools.benchmark import shuffle_bn


def test_it_times_plain_bn_group_by_group_and_one_pass(capsys):
    seconds = shuffle_bn.main(['--batch', '8', '--size', '16', '--splits', '2', '--repeats',
                               '1', '--stem', 'cifar', '--backward', '--channels-last'])
    assert list(seconds) == ['plain BN (no Shuffling BN)', 'group by group, 2 groups',
                             'one pass, 2 groups']
    assert all(value > 0 for value in seconds.values())
    assert 'group by group / one pass' in capsys.readouterr().out
