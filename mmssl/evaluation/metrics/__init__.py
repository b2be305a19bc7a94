from .knn import KNNAccuracy
from .probe import ProbeAccuracy

__all__ = ['KNNAccuracy', 'ProbeAccuracy']
