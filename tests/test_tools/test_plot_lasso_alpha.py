"""tools/analysis/plot_lasso_alpha.py: the alpha heat map of a MultiTaskLasso run."""
import json

import numpy as np
import pytest

from tools.analysis.plot_lasso_alpha import alpha_matrix, main


def write_scalars(path):
    rows = [
        {'loss': 3.0, 'alpha/rotation/0': 0.25, 'alpha/rotation/1': 0.25,
         'alpha/relpos/0': 0.25, 'alpha/relpos/1': 0.25, 'iter': 20, 'step': 20},
        {'knn/top1': 80.0, 'step': 20},
        {'loss': 2.0, 'alpha/rotation/0': 0.5, 'alpha/rotation/1': -0.1,
         'alpha/relpos/0': 0.0, 'alpha/relpos/1': 0.75, 'iter': 40, 'step': 40},
    ]
    path.write_text('\n'.join(json.dumps(r) for r in rows) + '\n')
    return str(path)


def test_reads_the_last_alpha_and_draws_a_png(tmp_path, capsys):
    run = tmp_path / 'work' / '20260101_000000' / 'vis_data'
    run.mkdir(parents=True)
    write_scalars(run / 'scalars.json')
    out = str(tmp_path / 'alpha.png')
    matrix = main([str(tmp_path / 'work'), '--out', out])
    np.testing.assert_allclose(matrix, [[0.5, -0.1], [0.0, 0.75]])
    with open(out, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    printed = capsys.readouterr().out
    assert 'rotation   0.500  -0.100' in printed and 'relpos' in printed
    tasks, early, it = alpha_matrix(json.loads(f'[{",".join(open(run / "scalars.json"))}]'),
                                    until=30)
    assert tasks == ['rotation', 'relpos'] and it == 20 and (early == 0.25).all()


def test_a_run_without_alpha_is_an_error(tmp_path):
    path = tmp_path / 'scalars.json'
    path.write_text(json.dumps({'loss': 1.0, 'iter': 1}) + '\n')
    with pytest.raises(SystemExit, match='no alpha/<task>/<block> scalars'):
        main([str(path), '--out', str(tmp_path / 'a.png')])
