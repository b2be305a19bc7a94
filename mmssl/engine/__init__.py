# Importing the engine makes mmengine's runner load local checkpoints weights-only.
from mmssl.utils import checkpoint_loading  # noqa: F401
from mmssl.utils.errors import NonFiniteLossError, TooManyBadImagesError  # noqa: F401
from .hooks import *  # noqa: F401,F403
from .loops import EpochBasedTrainLoop  # noqa: F401
from .optimizers import *  # noqa: F401,F403
from .schedulers import *  # noqa: F401,F403
