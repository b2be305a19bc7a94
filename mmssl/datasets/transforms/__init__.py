from .loading import ImageDecodeError, LoadImageFromFile, LoadMotionMask
from .pretext import (ColorizationViews, CountingViews, FourRotations, JigsawTiles,
                      MotionSegmentationViews, MultiTaskViews, RelativeLocPatches, grid_boxes,
                      lab_from_bgr, load_permutations, max_hamming_permutations, quantize_ab)
from .resize import ResizeToFit

__all__ = ['ImageDecodeError', 'LoadImageFromFile', 'ResizeToFit', 'CountingViews',
           'FourRotations', 'JigsawTiles', 'RelativeLocPatches', 'grid_boxes', 'load_permutations',
           'max_hamming_permutations', 'MultiTaskViews', 'ColorizationViews',
           'lab_from_bgr', 'quantize_ab', 'LoadMotionMask', 'MotionSegmentationViews']
