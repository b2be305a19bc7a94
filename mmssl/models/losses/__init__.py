from .contrastive import info_nce, nt_xent

__all__ = ['info_nce', 'nt_xent']
