import pytest
import torch
from torch import nn

from mmssl.engine import AutocastOptimWrapper
from mmssl.registry import OPTIM_WRAPPERS


def _wrapper(**kwargs):
    model = nn.Linear(4, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    return model, OPTIM_WRAPPERS.build(dict(type='AutocastOptimWrapper', optimizer=optimizer,
                                            **kwargs))


def test_forward_runs_in_bfloat16_and_the_step_updates_float32_weights():
    model, wrapper = _wrapper()
    assert isinstance(wrapper, AutocastOptimWrapper) and not hasattr(wrapper, 'loss_scaler')
    before = model.weight.detach().clone()
    with wrapper.optim_context(model):
        out = model(torch.randn(3, 4))
    assert out.dtype == torch.bfloat16
    wrapper.update_params(out.float().pow(2).mean())
    assert model.weight.dtype == torch.float32 and not torch.equal(model.weight, before)


def test_float16_and_unknown_dtypes_are_refused():
    with pytest.raises(ValueError, match='float16 needs loss scaling'):
        _wrapper(dtype='float16')
    with pytest.raises(ValueError, match="dtype 'bf16' is not a torch dtype"):
        _wrapper(dtype='bf16')
