import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from mmssl.evaluation.functional import fit_softmax_regression, linear_probe_accuracy


def _blobs(n: int, dim: int, classes: int, spread: float, seed: int):
    gen = torch.Generator().manual_seed(seed)
    centres = torch.randn(classes, dim, generator=gen) * 3
    labels = torch.randint(0, classes, (n,), generator=gen)
    return centres[labels] + spread * torch.randn(n, dim, generator=gen), labels


def test_softmax_regression_is_sklearns_l2_logistic_regression():
    """mean CE + wd/2 |W|^2 is sklearn's C * sum CE + 1/2 |W|^2 with C = 1 / (wd N)
    (unpenalised intercept): the same minimiser."""
    feats, labels = _blobs(400, 6, 4, spread=4.0, seed=0)
    weight_decay = 1e-2
    weight, bias = fit_softmax_regression(feats, labels, 4, weight_decay, max_iter=1000)
    reference = LogisticRegression(C=1 / (weight_decay * len(feats)), tol=1e-10,
                                   max_iter=10000).fit(feats.double().numpy(), labels.numpy())
    # softmax is invariant to a shift shared by all classes: compare centred parameters
    ours = torch.cat([weight.t(), bias[:, None]], 1).double().numpy()
    theirs = np.concatenate([reference.coef_, reference.intercept_[:, None]], 1)
    np.testing.assert_allclose(ours - ours.mean(0), theirs - theirs.mean(0), atol=2e-3)


def test_probe_picks_the_penalty_on_held_out_training_data_only():
    feats, labels = _blobs(600, 8, 3, spread=2.0, seed=1)
    test_feats, test_labels = _blobs(300, 8, 3, spread=2.0, seed=1)
    result = linear_probe_accuracy(feats, labels, test_feats, test_labels, 3,
                                   weight_decays=(1e-4, 1e-2))
    assert set(result['val_top1']) == {1e-4, 1e-2}
    assert result['val_top1'][result['weight_decay']] == max(result['val_top1'].values())
    assert result['top1'] > 90
    # Shuffled test labels: a probe that leaked test labels would still score high.
    shuffled = test_labels[torch.randperm(len(test_labels),
                                          generator=torch.Generator().manual_seed(0))]
    leaked = linear_probe_accuracy(feats, labels, test_feats, shuffled, 3,
                                   weight_decays=(1e-4, 1e-2))
    assert leaked['top1'] < 50 and leaked['val_top1'] == result['val_top1']


def test_probe_standardises_with_training_statistics():
    """Scaling and shifting the features (both splits alike) does not change the result."""
    feats, labels = _blobs(300, 5, 3, spread=3.0, seed=2)
    test_feats, test_labels = _blobs(200, 5, 3, spread=3.0, seed=3)
    plain = linear_probe_accuracy(feats, labels, test_feats, test_labels, 3)
    moved = linear_probe_accuracy(feats * 100 + 7, labels, test_feats * 100 + 7, test_labels, 3)
    assert moved['top1'] == pytest.approx(plain['top1'], abs=0.5)
