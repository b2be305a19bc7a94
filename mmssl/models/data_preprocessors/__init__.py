from .batch_view_augments import BatchColorJitter, BatchRandomResizedCrop
from .selfsup_preprocessor import SelfSupDataPreprocessor

__all__ = ['BatchColorJitter', 'BatchRandomResizedCrop', 'SelfSupDataPreprocessor']
