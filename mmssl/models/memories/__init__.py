from .memory_bank import MemoryBank
from .negative_queue import NegativeQueue

__all__ = ['MemoryBank', 'NegativeQueue']
