from .contrast_dictionaries import (ContrastDictionary, InBatchKeys, MemoryBankKeys,
                                    QueueKeys)
from .fifo_queue import FIFOQueue, check_neck_output_dim, neck_output_dim, rename_state_prefixes
from .memory_bank import MemoryBank

__all__ = ['ContrastDictionary', 'FIFOQueue', 'InBatchKeys', 'MemoryBank', 'MemoryBankKeys',
           'QueueKeys', 'check_neck_output_dim', 'neck_output_dim', 'rename_state_prefixes']
