"""Algorithms, heads, pretext tasks, losses, memories and the data preprocessor of mmssl.

Necks (``LinearNeck``, ``MoCoV2Neck``, ``NonLinearNeck``) and backbones (``ResNet``,
``VisionTransformer``) come from mmpretrain through the registry; mmssl adds the
masked-image-modeling wrappers ``MaskedViT`` (backbones), ``MIMDecoder`` (necks) and the
visual tokenizers.
"""
from .algorithms import *  # noqa: F401,F403
from .backbones import *  # noqa: F401,F403
from .data_preprocessors import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .memories import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .tasks import *  # noqa: F401,F403
from .tokenizers import *  # noqa: F401,F403
