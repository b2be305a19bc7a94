from .negative_queue import NegativeQueue

__all__ = ['NegativeQueue']
