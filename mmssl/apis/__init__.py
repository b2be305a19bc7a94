from .evaluate import evaluate_backbone
from .features import (FeatureModel, build_feature_dataloader, build_feature_model,
                       extract_features, load_backbone_weights, parse_stage, pool_stage)
from .runner import add_runner_args, build_runner, load_config, parse_runner_args

__all__ = ['evaluate_backbone', 'add_runner_args', 'build_runner', 'load_config',
           'parse_runner_args',
           'FeatureModel', 'build_feature_dataloader', 'build_feature_model',
           'extract_features', 'load_backbone_weights', 'parse_stage', 'pool_stage']
