from .batch_view_augments import (BatchColorJitter, BatchGaussianBlur, BatchRandomFlip,
                                  BatchRandomGrayscale, BatchRandomResizedCrop, BatchSolarize,
                                  BatchViewAugment, full_image_sizes)
from .selfsup_preprocessor import SelfSupDataPreprocessor

__all__ = ['BatchColorJitter', 'BatchGaussianBlur', 'BatchRandomFlip', 'BatchRandomGrayscale',
           'BatchRandomResizedCrop', 'BatchSolarize', 'BatchViewAugment', 'SelfSupDataPreprocessor',
           'full_image_sizes']
