from .autocast_optim_wrapper import AutocastOptimWrapper
from .lars import LARS
from .skip_nonfinite import SkipNonFiniteMixin, SkipNonFiniteOptimWrapper

__all__ = ['AutocastOptimWrapper', 'LARS', 'SkipNonFiniteMixin', 'SkipNonFiniteOptimWrapper']
