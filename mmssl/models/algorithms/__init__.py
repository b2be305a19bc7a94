from .base import BaseSelfSupervisor
from .moco import MoCo
from .momentum import MomentumSelfSupervisor
from .simclr import SimCLR

__all__ = ['BaseSelfSupervisor', 'MomentumSelfSupervisor', 'MoCo', 'SimCLR']
