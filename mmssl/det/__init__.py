"""mmdet parts for fine-tuning mmssl backbones, registered in mmdet's registry.

Load them from an mmdet config with
``custom_imports = dict(imports=['mmssl.det'], allow_failed_imports=False)``.
"""
from .simple_feature_pyramid import SimpleFeaturePyramid

__all__ = ['SimpleFeaturePyramid']
