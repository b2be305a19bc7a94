"""The parity helpers themselves."""
import pytest
from torch import nn

from tests.test_parity._parity import copy_weights

RULES = [(r'encoder\.', 'backbone.')]


def test_copy_weights_names_the_first_key_it_cannot_map():
    """An extra source key, and a target key that no source key maps to, each raise a
    KeyError naming that key; matching models copy."""
    source = nn.ModuleDict(dict(encoder=nn.Linear(2, 2)))
    target = nn.ModuleDict(dict(backbone=nn.Linear(2, 2)))
    copy_weights(source, target, RULES)
    assert (target.backbone.weight == source.encoder.weight).all()

    source.extra = nn.Linear(2, 2)
    with pytest.raises(KeyError, match=r"'extra\.weight'"):
        copy_weights(source, target, RULES)
    del source.extra

    target.head = nn.Linear(2, 2)
    with pytest.raises(KeyError, match=r"'head\.weight'"):
        copy_weights(source, target, RULES)
