"""Necks of mmssl; mmpretrain's (``LinearNeck``, ``MoCoV2Neck``, ``NonLinearNeck``,
``MAEPretrainDecoder``, ``SimMIMLinearDecoder``...) come through the registry."""
from .mim_decoder import MIMDecoder

__all__ = ['MIMDecoder']
