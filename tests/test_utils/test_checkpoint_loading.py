"""mmengine's local checkpoint loader falls back to weights_only=False (running the code a
pickle names) when weights_only refuses a file; mmssl's replacement refuses it instead."""
import os.path as osp

import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader, _safe_torch_load, load_checkpoint
from torch import nn

from mmssl.utils import UnsafeCheckpointError, load_local_checkpoint


def _touch(path: str) -> str:
    """The 'payload': creates a file when the pickle is loaded."""
    open(path, 'w').close()
    return path


class _Payload:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return _touch, (self.marker,)


def _malicious_checkpoint(tmp_path) -> tuple[str, str]:
    marker, path = str(tmp_path / 'payload-ran'), str(tmp_path / 'evil.pth')
    torch.save({'state_dict': nn.Linear(2, 2).state_dict(), 'meta': _Payload(marker)}, path)
    return path, marker


def test_mmengine_alone_would_run_the_payload(tmp_path):
    """The breakage: mmengine's own loader unpickles the code after weights_only refuses."""
    path, marker = _malicious_checkpoint(tmp_path)
    _safe_torch_load(path)
    assert osp.exists(marker)


def test_every_mmengine_load_of_a_local_file_refuses_the_payload(tmp_path):
    path, marker = _malicious_checkpoint(tmp_path)
    assert CheckpointLoader._get_checkpoint_loader(path) is load_local_checkpoint
    with pytest.raises(UnsafeCheckpointError, match=r'evil\.pth: its pickle names code'):
        load_checkpoint(nn.Linear(2, 2), path)  # load_from, resume, init_cfg Pretrained
    assert not osp.exists(marker)


def test_mmengine_checkpoints_still_load_with_their_logging_state(tmp_path):
    path = str(tmp_path / 'ok.pth')
    buffer = HistoryBuffer()
    buffer.update(1.5)
    torch.save({'state_dict': nn.Linear(2, 2).state_dict(),
                'message_hub': {'log_scalars': {'train/loss': buffer}}}, path)
    model = nn.Linear(2, 2)
    checkpoint = load_checkpoint(model, path)
    loaded = checkpoint['message_hub']['log_scalars']['train/loss']
    assert isinstance(loaded, HistoryBuffer) and loaded.current() == 1.5
