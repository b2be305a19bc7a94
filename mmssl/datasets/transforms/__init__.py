from .loading import ImageDecodeError, LoadImageFromFile

__all__ = ['ImageDecodeError', 'LoadImageFromFile']
