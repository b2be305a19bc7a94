from .loading import ImageDecodeError, LoadImageFromFile
from .resize import ResizeToFit

__all__ = ['ImageDecodeError', 'LoadImageFromFile', 'ResizeToFit']
