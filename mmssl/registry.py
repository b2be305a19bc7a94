"""Registries of mmssl, in the ``mmssl`` scope.

Each registry is a child of mmpretrain's registry of the same kind, which is itself a
child of mmengine's root registry. A ``type=`` name is looked up in mmssl first, then in
mmpretrain (backbones such as ``ResNet`` and ``VisionTransformer``, necks, transforms),
then in mmengine; a name registered in both (``LARS``) is mmssl's. Other scopes are
reached with a prefix, for example ``type='mmdet.ResNet'``. This module imports only
registries: it is the bottom layer.

``mmssl`` is a config scope as well: a config outside the repository (a plugin project)
inherits ``_base_ = ['mmssl::mocov2/<name>.py']``, which mmengine reads from the installed
package's ``.mim/configs`` once ``mmssl`` is in its table of OpenMMLab packages.
"""
from mmengine.config.utils import MODULE2PACKAGE
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry
from mmpretrain import registry as mmpretrain_registry

__all__ = [
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'LOG_PROCESSORS', 'OPTIMIZERS',
    'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'DATASETS',
    'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS',
    'TASK_UTILS', 'METRICS', 'EVALUATORS', 'VISUALIZERS', 'VISBACKENDS', 'FUNCTIONS'
]

MODULE2PACKAGE.setdefault('mmssl', 'mmssl')  # scope -> pip distribution name
# mmengine's table sends 'mmseg::' bases to the distribution 'mmsegmentation', which
# onedl-mmsegmentation is not: looked up by its module instead (as 'mmdet' is), mmseg's
# configs are found whichever of the two installed it.
MODULE2PACKAGE['mmseg'] = 'mmseg'

_ENGINE = ['mmpretrain.engine', 'mmssl.engine']
_DATA = ['mmpretrain.datasets', 'mmssl.datasets']
_MODELS = ['mmpretrain.models', 'mmssl.models']
_EVAL = ['mmpretrain.evaluation', 'mmssl.evaluation']


def _child(name: str, locations: list[str]) -> Registry:
    """A registry in the ``mmssl`` scope under mmpretrain's registry of the same kind.

    ``locations`` lists the modules imported the first time the registry is used, so a
    name registered there is found without importing it by hand. mmpretrain's modules
    come first: mmengine does not import a parent's locations when it searches it.
    """
    parent = getattr(mmpretrain_registry, name)
    return Registry(parent.name, parent=parent, scope='mmssl', locations=locations)


RUNNERS = _child('RUNNERS', _ENGINE)
RUNNER_CONSTRUCTORS = _child('RUNNER_CONSTRUCTORS', _ENGINE)
LOOPS = _child('LOOPS', _ENGINE)
HOOKS = _child('HOOKS', _ENGINE)
LOG_PROCESSORS = _child('LOG_PROCESSORS', _ENGINE)
OPTIMIZERS = _child('OPTIMIZERS', _ENGINE)
OPTIM_WRAPPERS = _child('OPTIM_WRAPPERS', _ENGINE)
OPTIM_WRAPPER_CONSTRUCTORS = _child('OPTIM_WRAPPER_CONSTRUCTORS', _ENGINE)
PARAM_SCHEDULERS = _child('PARAM_SCHEDULERS', _ENGINE)

DATASETS = _child('DATASETS', _DATA)
DATA_SAMPLERS = _child('DATA_SAMPLERS', _DATA)
TRANSFORMS = _child('TRANSFORMS', _DATA)
# Collate functions, named 'mmssl.<name>' in a dataloader's collate_fn (mmengine looks them
# up in its root registry, which reaches this one through the scope prefix).
FUNCTIONS = Registry('function', parent=MMENGINE_FUNCTIONS, scope='mmssl', locations=_DATA)

MODELS = _child('MODELS', _MODELS)
MODEL_WRAPPERS = _child('MODEL_WRAPPERS', _MODELS)
WEIGHT_INITIALIZERS = _child('WEIGHT_INITIALIZERS', _MODELS)
# An init_cfg of another scope's model (mmseg, mmdet) names an mmssl initializer
# 'mmssl.<name>'; mmengine resolves a scope prefix among its root registry's direct
# children only, so this registry is listed there too (its parent stays mmpretrain's).
MMENGINE_WEIGHT_INITIALIZERS.children['mmssl'] = WEIGHT_INITIALIZERS
TASK_UTILS = _child('TASK_UTILS', _MODELS)

METRICS = _child('METRICS', _EVAL)
EVALUATORS = _child('EVALUATORS', _EVAL)

VISUALIZERS = _child('VISUALIZERS', ['mmpretrain.visualization'])
VISBACKENDS = _child('VISBACKENDS', ['mmpretrain.visualization'])
