from .fixed_group_lr import FixedGroupLR

__all__ = ['FixedGroupLR']
