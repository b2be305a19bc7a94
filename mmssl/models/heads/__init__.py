from .contrastive_heads import InfoNCEHead, NTXentHead

__all__ = ['InfoNCEHead', 'NTXentHead']
