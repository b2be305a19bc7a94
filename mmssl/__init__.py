"""mmssl: self-supervised visual representation learning on MMEngine."""
import warnings

from .version import __version__

# mmcv without compiled ops (what the demo's set-up installs: pretraining needs none) warns
# at import that MultiScaleDeformableAttention is missing; only mmdet's DETR-style heads use
# it, and the configs that need ops stop with a clear error (mmssl.apis.runner).
warnings.filterwarnings('ignore', message='Fail to import ``MultiScaleDeformableAttention``',
                        category=UserWarning)

__all__ = ['__version__']
