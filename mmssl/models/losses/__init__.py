from .contrastive import in_batch_info_nce, info_nce, nt_xent, triplet_ranking
from .cosine import negative_cosine_similarity, normalized_l2
from .counting import counting_loss
from .cross_correlation import barlow_twins_loss, cross_correlation
from .cross_view import cross_view_cross_entropy
from .dino import dino_loss
from .masked_modeling import (masked_cross_entropy, masked_l1, masked_mse,
                              normalized_pixel_targets)
from .swav import sinkhorn_knopp

__all__ = ['in_batch_info_nce', 'info_nce', 'nt_xent', 'barlow_twins_loss', 'cross_correlation',
           'negative_cosine_similarity', 'normalized_l2', 'cross_view_cross_entropy',
           'dino_loss', 'sinkhorn_knopp']
__all__ += ['counting_loss']
__all__ += ['masked_cross_entropy', 'masked_l1', 'masked_mse', 'normalized_pixel_targets']
__all__ += ['triplet_ranking']
