from .barlow_twins_head import BarlowTwinsHead
from .contrastive_heads import InfoNCEHead, NTXentHead, TripletRankingHead
from .dino_head import DINOHead, DINONeck
from .linear_probe_head import LinearProbeHead
from .mim_heads import PixelReconstructionHead, TokenPredictionHead
from .predictor_heads import CosineRegressionHead, PredictorHead
from .pretext_heads import ColorizationHead, CountingHead, DenseClsHead, PretextClsHead
from .swav_head import SwAVHead

__all__ = ['InfoNCEHead', 'LinearProbeHead', 'NTXentHead', 'BarlowTwinsHead',
           'CosineRegressionHead', 'PredictorHead', 'DINOHead', 'DINONeck', 'SwAVHead']
__all__ += ['ColorizationHead', 'CountingHead', 'DenseClsHead', 'PretextClsHead']
__all__ += ['PixelReconstructionHead', 'TokenPredictionHead']
__all__ += ['TripletRankingHead']
