from mmengine.model import is_model_wrapper
from torch import nn


def unwrap_model(model: nn.Module) -> nn.Module:
    """The algorithm inside a model wrapper (DDP, FSDP, ...), or ``model`` itself."""
    return model.module if is_model_wrapper(model) else model
