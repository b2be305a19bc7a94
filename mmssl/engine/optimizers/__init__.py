from .autocast_optim_wrapper import AutocastOptimWrapper
from .skip_nonfinite import SkipNonFiniteMixin, SkipNonFiniteOptimWrapper

__all__ = ['AutocastOptimWrapper', 'SkipNonFiniteMixin', 'SkipNonFiniteOptimWrapper']
