from .barlow_twins import BarlowTwins
from .base import BaseSelfSupervisor
from .beit import BEiT
from .byol import BYOL
from .densecl import DenseCL
from .dino import DINO
from .mae import MAE
from .moco import Exemplar, MoCo
from .mocov3 import MoCoV3
from .momentum import MomentumSelfSupervisor
from .multitask_lasso import MultiTaskLasso
from .pretext import (Colorization, Counting, Jigsaw, MotionSegmentation, PretextClassifier,
                      RelativeLoc, RotationPred)
from .simclr import SimCLR
from .simmim import SimMIM
from .simsiam import SimSiam
from .splitmask import SplitMask
from .swav import SwAV
from .transitive_invariance import TransitiveInvariance

__all__ = ['BaseSelfSupervisor', 'MomentumSelfSupervisor', 'MoCo', 'SimCLR', 'BarlowTwins',
           'BYOL', 'DenseCL', 'MoCoV3', 'SimSiam', 'DINO', 'SwAV', 'Exemplar']
__all__ += ['Counting', 'PretextClassifier', 'RotationPred', 'RelativeLoc', 'Jigsaw']
__all__ += ['BEiT', 'MAE', 'SimMIM', 'SplitMask']
__all__ += ['MultiTaskLasso']
__all__ += ['Colorization', 'MotionSegmentation']
__all__ += ['TransitiveInvariance']
