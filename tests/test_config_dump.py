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


def migrate(entry: dict) -> dict:
    """A config's dump before the redesign, with the redesign's moves applied."""
    entry = copy.deepcopy(entry)
    model = entry['model']
    if model.get('type') == 'MultiTaskLasso':
        _migrate_multitask(model)
    # One name for a queue's length: MoCo's dictionary.length, DenseCL's and SwAV's
    # queue_len -> queue_length.
    _rename(model, 'queue_len', 'queue_length')
    if (model.get('dictionary') or {}).get('type') == 'QueueKeys':
        _rename(model['dictionary'], 'length', 'queue_length')
    return entry


def test_no_config_appeared_or_vanished():
    assert sorted(BEFORE) == config_paths()


@pytest.mark.parametrize('path', sorted(BEFORE))
def test_config_trains_what_it_did_before(path):
    now, before = dump_config(path), migrate(BEFORE[path])
    for section in before:
        assert now[section] == before[section], f'{path}: {section} changed'
