from .evaluate import evaluate_backbone
from .features import (FeatureModel, build_feature_dataloader, build_feature_model,
                       extract_features, feature_pipeline, load_backbone_weights, parse_stage,
                       pool_stage)
from .images import ImageList, as_image_list
from .inference import get_model, zoo_checkpoint, zoo_models
from .runner import (VIS_BACKENDS, MetricsToVisualizerHook, add_runner_args,
                     add_vis_backends, build_runner, load_config, parse_runner_args)

__all__ = ['evaluate_backbone', 'add_runner_args', 'add_vis_backends', 'build_runner',
           'load_config', 'parse_runner_args', 'VIS_BACKENDS', 'MetricsToVisualizerHook',
           'FeatureModel', 'build_feature_dataloader', 'build_feature_model',
           'extract_features', 'feature_pipeline', 'load_backbone_weights', 'parse_stage',
           'pool_stage', 'ImageList', 'as_image_list', 'get_model', 'zoo_checkpoint',
           'zoo_models']
