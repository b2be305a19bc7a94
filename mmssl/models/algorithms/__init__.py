from .barlow_twins import BarlowTwins
from .base import BaseSelfSupervisor
from .byol import BYOL
from .densecl import DenseCL
from .dino import DINO
from .moco import MoCo
from .mocov3 import MoCoV3
from .momentum import MomentumSelfSupervisor
from .simclr import SimCLR
from .simsiam import SimSiam
from .swav import SwAV

__all__ = ['BaseSelfSupervisor', 'MomentumSelfSupervisor', 'MoCo', 'SimCLR', 'BarlowTwins',
           'BYOL', 'DenseCL', 'MoCoV3', 'SimSiam', 'DINO', 'SwAV']
