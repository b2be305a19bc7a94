from typing import Optional, Union

from torch import nn

from mmssl.registry import MODELS

ModuleCfg = Union[dict, nn.Module]


def build_module(cfg: Optional[ModuleCfg]) -> Optional[nn.Module]:
    """A module from a config dict (through the registry), or the module itself."""
    if cfg is None or isinstance(cfg, nn.Module):
        return cfg
    return MODELS.build(cfg)
