"""Backbone wrappers; plain backbones (``ResNet``, ``VisionTransformer``) come from
mmpretrain through the registry."""
from .masked_vit import MaskedViT

__all__ = ['MaskedViT']
