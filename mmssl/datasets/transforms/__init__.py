from .loading import ImageDecodeError, LoadImageFromFile, LoadMotionMask
from .pretext import (ColorizationViews, CountingViews, FourRotations, JigsawTiles, Lightness,
                      MotionSegmentationViews, MultiTaskViews, RelativeLocPatches, grid_boxes,
                      lab_from_bgr, lightness_image, load_permutations,
                      max_hamming_permutations, quantize_ab)
from .resize import ResizeToFit

__all__ = ['ImageDecodeError', 'LoadImageFromFile', 'ResizeToFit', 'CountingViews',
           'FourRotations', 'JigsawTiles', 'RelativeLocPatches', 'grid_boxes', 'load_permutations',
           'max_hamming_permutations', 'MultiTaskViews', 'ColorizationViews', 'Lightness',
           'lab_from_bgr', 'lightness_image', 'quantize_ab', 'LoadMotionMask',
           'MotionSegmentationViews']
