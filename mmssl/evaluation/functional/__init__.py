from .knn import topk_accuracy, weighted_knn_scores

__all__ = ['topk_accuracy', 'weighted_knn_scores']
