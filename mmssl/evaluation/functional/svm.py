"""Linear SVMs on frozen features: the VOC07 classification benchmark of Goyal et al. (2019),
"Scaling and Benchmarking Self-Supervised Visual Representation Learning", as their
``fair_self_supervision_benchmark`` and MMSelfSup's ``svm_voc07`` tools run it.

The protocol, per feature set (one backbone stage):

1. features are L2-normalised per image (``x / (||x|| + 1e-5)``);
2. for each class, one-vs-rest, and each cost C of the sweep, a ``LinearSVC`` (squared
   hinge, L2 penalty, ``class_weight={1: 2, -1: 1}``, dual, tol 1e-4, at most 2,000
   iterations) is scored by k-fold cross-validation on trainval (3 folds, sklearn's
   ``average_precision``) and fitted on all of trainval;
3. each class keeps the cost with the best cross-validation AP; its SVM scores the test
   images and the class's AP is measured; the result is the mean over classes (mAP).

Labels follow VOC's ``ImageSets/Main/{cls}_{split}.txt`` files: 1 present, -1 absent,
0 "difficult". As in the protocol, difficult images count as negatives when training
and are left out when testing.

AP: ``'area'`` (the default, what the protocol reports: the area under the
interpolated precision-recall curve, as VOC2010+ and the benchmark's ``calculate_ap``)
and ``'11point'`` (the VOC2007 devkit's mean of the interpolated precision at recall
0, 0.1, ..., 1). Both are reported by :func:`svm_classification`.
"""
from typing import Optional, Sequence

import numpy as np

from mmssl.utils.progress import progress_bar

# The protocol's per-class SVM settings (train_svm_kfold.py).
SVM_KWARGS = dict(penalty='l2', loss='squared_hinge', dual=True, tol=1e-4, max_iter=2000,
                  intercept_scaling=1.0, class_weight={1: 2, -1: 1})
AP_MODES = ('area', '11point')


def normalize_features(feats: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """(N, D) features divided by their L2 norm (+ ``eps``), in float64 as the protocol."""
    feats = np.asarray(feats, dtype=np.float64)
    return feats / (np.linalg.norm(feats, axis=1, keepdims=True) + eps)


def one_vs_rest_labels(labels: np.ndarray, num_classes: Optional[int] = None) -> np.ndarray:
    """(N,) class indices -> (N, K) targets in {1, -1}: one binary problem per class."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f'one_vs_rest_labels takes (N,) class indices, got {labels.shape}')
    num_classes = int(labels.max()) + 1 if num_classes is None else num_classes
    return np.where(labels[:, None] == np.arange(num_classes)[None], 1, -1).astype(np.int8)


def precision_recall(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall at each rank of ``scores`` sorted high to low.

    ``labels``: 1 positive, anything else negative (difficult images must already be
    removed). Ties keep the order of a stable sort of the negated scores.
    """
    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels)
    order = np.argsort(-scores, kind='stable')
    positive = (labels[order] == 1).astype(np.float64)
    tp, fp = np.cumsum(positive), np.cumsum(1 - positive)
    num_pos = positive.sum()
    recall = tp / num_pos if num_pos else np.zeros_like(tp)
    return tp / (tp + fp), recall


def average_precision(scores: np.ndarray, labels: np.ndarray, mode: str = 'area') -> float:
    """AP of one class: ``labels`` 1 present, -1 absent, 0 difficult (left out).

    ``mode``: ``'area'`` (interpolated precision integrated over recall: VOC2010+, and
    the SVM protocol of Goyal et al.) or ``'11point'`` (VOC2007's 11-point mean).

    Raises:
        ValueError: if no image is positive (AP is undefined) or ``mode`` is unknown.
    """
    if mode not in AP_MODES:
        raise ValueError(f'unknown AP mode {mode!r}; use one of {AP_MODES}')
    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels)
    if scores.shape != labels.shape or scores.ndim != 1:
        raise ValueError(f'scores {scores.shape} and labels {labels.shape} must be equal (N,)')
    keep = labels != 0
    scores, labels = scores[keep], labels[keep]
    if not (labels == 1).any():
        raise ValueError('average_precision: no positive image, AP is undefined')
    precision, recall = precision_recall(scores, labels)
    if mode == '11point':
        return float(np.mean([precision[recall >= t].max() if (recall >= t).any() else 0.0
                              for t in np.linspace(0, 1, 11)]))
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mpre = np.concatenate([[0.0], precision, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]  # the interpolated precision envelope
    steps = np.where(mrec[1:] != mrec[:-1])[0] + 1
    return float(np.sum((mrec[steps] - mrec[steps - 1]) * mpre[steps]))


def _svm(cost: float, seed: int):
    from sklearn.svm import LinearSVC  # scikit-learn is needed by the SVM benchmark only
    return LinearSVC(C=cost, random_state=seed, **SVM_KWARGS)


def cross_val_ap(feats: np.ndarray, targets: np.ndarray, cost: float, folds: int = 3,
                 seed: int = 0) -> float:
    """Mean k-fold cross-validation AP of one class's SVM at ``cost``.

    ``feats``: (N, D) normalised; ``targets``: (N,) in {1, -1}. sklearn's
    ``cross_val_score(..., cv=folds, scoring='average_precision')`` as in the protocol
    (stratified folds in image order, no shuffling).
    """
    from sklearn.model_selection import cross_val_score
    return float(cross_val_score(_svm(cost, seed), feats, targets, cv=folds,
                                 scoring='average_precision').mean())


def class_sweep(train_feats: np.ndarray, targets: np.ndarray, test_feats: np.ndarray,
                test_labels: np.ndarray, costs: Sequence[float], folds: int,
                seed: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The cost sweep of one class: ``(len(costs),)`` cross-validation APs and, per AP
    mode, ``(len(costs),)`` test APs of the SVM fitted on all training images.

    ``targets``: (N,) in {1, -1}; ``test_labels``: (M,) in {1, -1, 0}.
    """
    cv_ap = np.zeros(len(costs))
    test_ap = {mode: np.zeros(len(costs)) for mode in AP_MODES}
    for j, cost in enumerate(costs):
        cv_ap[j] = cross_val_ap(train_feats, targets, cost, folds, seed)
        scores = _svm(cost, seed).fit(train_feats, targets).decision_function(test_feats)
        for mode in AP_MODES:
            test_ap[mode][j] = average_precision(scores, test_labels, mode)
    return cv_ap, test_ap


def svm_classification(train_feats: np.ndarray,
                       train_labels: np.ndarray,
                       test_feats: np.ndarray,
                       test_labels: np.ndarray,
                       costs: Sequence[float] = (0.01, 0.1, 1.0, 10.0),
                       folds: int = 3,
                       seed: int = 0,
                       class_names: Optional[Sequence[str]] = None,
                       ap_mode: str = 'area',
                       workers: int = 1) -> dict:
    """Per-class linear SVMs with the cost sweep; test mAP (see the module docstring).

    Args:
        train_feats, test_feats: (N, D) features (normalised here).
        train_labels, test_labels: (N, K) in {1, -1, 0} (VOC's present/absent/difficult),
            or (N,) class indices (one-vs-rest, no difficult images).
        costs: the sweep; each class picks its cost by ``folds``-fold cross-validation.
        seed: ``random_state`` of the SVM solver (its coordinate order).
        class_names: K names for the per-class results (default: the class indices).
        ap_mode: which AP ``mAP`` and ``ap`` report (both are in the result).
        workers: classes swept side by side in processes (joblib; -1: one per CPU); the
            result does not depend on it. A progress bar counts the classes.

    Returns:
        ``mAP``: mean test AP at each class's chosen cost, in percent (``ap_mode``);
        ``mAP_area``, ``mAP_11point``: the same in both AP versions; ``ap``: per class
        (``ap_mode``); ``chosen_cost``: per class; ``cv_ap``: per class, the mean
        cross-validation AP of each cost; ``mAP_per_cost``: test mAP if every class used
        that cost; ``num_train``, ``num_test``, ``costs``, ``ap_mode``.
    """
    if ap_mode not in AP_MODES:
        raise ValueError(f'unknown AP mode {ap_mode!r}; use one of {AP_MODES}')
    if not costs:
        raise ValueError('svm_classification needs at least one cost')
    train_labels, test_labels = np.asarray(train_labels), np.asarray(test_labels)
    if train_labels.ndim == 1 or test_labels.ndim == 1:
        if train_labels.ndim != test_labels.ndim:
            raise ValueError(f'train labels {train_labels.shape} and test labels '
                             f'{test_labels.shape}: give both as indices or as (N, K)')
        num_classes = int(max(train_labels.max(), test_labels.max())) + 1
        train_labels = one_vs_rest_labels(train_labels, num_classes)
        test_labels = one_vs_rest_labels(test_labels, num_classes)
    if train_labels.shape[1] != test_labels.shape[1]:
        raise ValueError(f'train labels have {train_labels.shape[1]} classes, test labels '
                         f'{test_labels.shape[1]}')
    if len(train_feats) != len(train_labels) or len(test_feats) != len(test_labels):
        raise ValueError(f'features and labels differ in length: train {len(train_feats)} '
                         f'vs {len(train_labels)}, test {len(test_feats)} vs {len(test_labels)}')
    num_classes = train_labels.shape[1]
    names = [str(i) for i in range(num_classes)] if class_names is None else list(class_names)
    if len(names) != num_classes:
        raise ValueError(f'{len(names)} class names for {num_classes} classes')
    no_positive = [names[c] for c in range(num_classes) if not (test_labels[:, c] == 1).any()]
    if no_positive:
        raise ValueError(f'no positive test image for classes {no_positive}: their AP is '
                         f'undefined; test on more images')
    train_feats, test_feats = normalize_features(train_feats), normalize_features(test_feats)
    costs = [float(c) for c in costs]

    # training: difficult (0) counts as negative, as the protocol's full-data SVMs
    targets = np.where(train_labels == 1, 1, -1)
    for cls in range(num_classes):
        num_pos = int((targets[:, cls] == 1).sum())
        if min(num_pos, len(targets) - num_pos) < folds:
            raise ValueError(f'class {names[cls]}: {num_pos} positive and '
                             f'{len(targets) - num_pos} negative training images; '
                             f'{folds}-fold cross-validation needs at least {folds} of each')
    from joblib import Parallel, delayed  # scikit-learn's dependency, as the SVMs
    sweeps = Parallel(n_jobs=workers, return_as='generator')(
        delayed(class_sweep)(train_feats, targets[:, cls], test_feats, test_labels[:, cls],
                             costs, folds, seed) for cls in range(num_classes))
    sweeps = list(progress_bar(sweeps, 'SVM classes', num_classes, unit='class'))
    cv_ap = np.stack([cv for cv, _ in sweeps])  # (K, len(costs))
    test_ap = {mode: np.stack([test[mode] for _, test in sweeps]) for mode in AP_MODES}
    chosen = cv_ap.argmax(axis=1)  # the first of equal costs, as np.argmax in the protocol
    rows = np.arange(num_classes)
    per_class = {mode: test_ap[mode][rows, chosen] * 100 for mode in AP_MODES}
    return dict(
        mAP=float(per_class[ap_mode].mean()),
        mAP_area=float(per_class['area'].mean()),
        mAP_11point=float(per_class['11point'].mean()),
        ap=dict(zip(names, per_class[ap_mode].tolist())),
        chosen_cost=dict(zip(names, [costs[j] for j in chosen])),
        cv_ap={name: dict(zip(map(str, costs), (cv_ap[i] * 100).tolist()))
               for i, name in enumerate(names)},
        mAP_per_cost={str(c): float(test_ap[ap_mode][:, j].mean() * 100)
                      for j, c in enumerate(costs)},
        num_train=int(len(train_feats)), num_test=int(len(test_feats)), costs=costs,
        ap_mode=ap_mode)
