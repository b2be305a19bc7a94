"""Every config trains what it trained before the wiring redesign (issue 20).

``tests/data/config_dump_before_issue20.json`` is ``tools/analysis/dump_configs.py`` run at
the commit before the redesign. Each entry is carried through :func:`migrate`, which
writes down every move and rename the redesign made (and nothing else), then compared
with the config as it resolves today: model, optimizer, schedule and hooks.
"""
import copy
import json
import os.path as osp

import pytest

from tests._helpers import REPO_ROOT
from tools.analysis.dump_configs import config_paths, dump_config

BEFORE_PATH = osp.join(REPO_ROOT, 'tests', 'data', 'config_dump_before_issue20.json')
with open(BEFORE_PATH) as f:
    BEFORE = json.load(f)

# MultiTaskLasso: ``head`` (a dict of task dicts with a ``kind``) became ``tasks``, task
# objects named by their type.
TASK_TYPES = dict(classification='ClassificationTask', counting='CountingTask',
                  exemplar='ExemplarTask', colorization='ColorizationTask',
                  motion_segmentation='MotionSegmentationTask')


def _migrate_multitask(model: dict) -> None:
    tasks = model.pop('head')
    for task in tasks.values():
        task['type'] = TASK_TYPES[task.pop('kind', 'classification')]
    model['tasks'] = tasks


def _rename(cfg: dict, old: str, new: str) -> None:
    if old in cfg:
        cfg[new] = cfg.pop(old)


# The EMA factor's names (NPID's bank update is no longer called momentum either).
EMA_RENAMES = dict(momentum='ema_momentum', base_momentum='ema_momentum',
                   momentum_schedule='ema_schedule', final_momentum='ema_momentum_end')
SCHEDULE_HOOKS = ('MomentumUpdateHook', 'EpochScheduleHook', 'FreezeParametersHook',
                  'LossWeightWarmupHook')


def _hook_values_to_model(model: dict, hook: dict) -> None:
    """A schedule hook's values, moved to the model that owns the schedule."""
    if hook['type'] == 'LossWeightWarmupHook':  # DenseCL
        model['dense_loss_start_iter'] = hook['start_iters']
        if 'ramp_iters' in hook:
            model['dense_loss_ramp_iters'] = hook['ramp_iters']
    elif hook['type'] == 'FreezeParametersHook' and model['type'] == 'SwAV':
        model['freeze_prototypes_iters'] = hook['iters']
    elif hook['type'] == 'FreezeParametersHook':  # DINO: iterations or epochs
        if 'iters' in hook:
            model.update(freeze_last_layer_iters=hook['iters'], freeze_last_layer_epochs=0)
        else:
            model['freeze_last_layer_epochs'] = hook['epochs']


def migrate(entry: dict) -> dict:
    """A config's dump before the redesign, with the redesign's moves applied."""
    entry = copy.deepcopy(entry)
    model = entry['model']
    # Training progress wired once: the momentum hook is a default hook, the schedule
    # hooks' values are the model's arguments.
    if 'rng_state' in (entry['default_hooks'] or {}):  # mmssl's runtime, not mmdet's
        entry['default_hooks']['momentum_update'] = dict(type='MomentumUpdateHook')
    if entry['custom_hooks'] is not None:
        for hook in entry['custom_hooks']:
            _hook_values_to_model(model, hook)
        entry['custom_hooks'] = [hook for hook in entry['custom_hooks']
                                 if hook['type'] not in SCHEDULE_HOOKS] or None
    for old, new in EMA_RENAMES.items():
        _rename(model, old, new)
    if (model.get('dictionary') or {}).get('type') == 'MemoryBankKeys':
        _rename(model['dictionary'], 'momentum', 'proximal_weight')
    if model.get('type') == 'MultiTaskLasso':
        _migrate_multitask(model)
    # One name for a queue's length: MoCo's dictionary.length, DenseCL's and SwAV's
    # queue_len -> queue_length.
    _rename(model, 'queue_len', 'queue_length')
    if (model.get('dictionary') or {}).get('type') == 'QueueKeys':
        _rename(model['dictionary'], 'length', 'queue_length')
    return entry


def test_no_config_vanished():
    """Every config of before the redesign is still there (configs added since, such as
    the model zoo's recipes, are not part of this comparison)."""
    assert not set(BEFORE) - set(config_paths())


@pytest.mark.parametrize('path', sorted(BEFORE))
def test_config_trains_what_it_did_before(path):
    now, before = dump_config(path), migrate(BEFORE[path])
    now['custom_hooks'] = now['custom_hooks'] or None  # [] and None: no custom hook
    for section in before:
        assert now[section] == before[section], f'{path}: {section} changed'
