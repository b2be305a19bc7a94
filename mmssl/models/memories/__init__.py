from .contrast_dictionaries import (ContrastDictionary, InBatchKeys, MemoryBankKeys,
                                    QueueKeys)
from .memory_bank import MemoryBank
from .negative_queue import NegativeQueue

__all__ = ['ContrastDictionary', 'InBatchKeys', 'MemoryBank', 'MemoryBankKeys',
           'NegativeQueue', 'QueueKeys']
