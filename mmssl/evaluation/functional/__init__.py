from .knn import topk_accuracy, topk_correct, weighted_knn_scores
from .linear import fit_softmax_regression, linear_probe_accuracy
from .svm import (average_precision, cross_val_ap, normalize_features, one_vs_rest_labels,
                  precision_recall, svm_classification)

__all__ = ['topk_accuracy', 'topk_correct', 'weighted_knn_scores', 'fit_softmax_regression',
           'linear_probe_accuracy', 'average_precision', 'cross_val_ap',
           'normalize_features', 'one_vs_rest_labels', 'precision_recall',
           'svm_classification']
