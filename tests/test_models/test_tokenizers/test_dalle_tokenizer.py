import pytest
import torch

from mmssl.models.tokenizers import DALLETokenizer
from mmssl.registry import MODELS

SMALL = dict(n_hid=4, n_blk_per_group=1)


def test_loads_a_dalle_state_dict_and_gives_one_token_per_patch(tmp_path):
    torch.manual_seed(0)
    reference = MODELS.build(dict(type='DALL-E', vocab_size=32, **SMALL))
    for param in reference.parameters():
        param.data.normal_()
    path = str(tmp_path / 'dalle_encoder.pth')
    torch.save({'state_dict': {f'encoder.{k}': v for k, v in reference.state_dict().items()}},
               path)
    tokenizer = DALLETokenizer(path, mean=[0, 0, 0], std=[255, 255, 255], vocab_size=32,
                               encoder=SMALL)
    tokenizer.init_weights()
    images = torch.rand(2, 3, 32, 32)  # normalised with mean 0, std 255: pixels in [0, 1]
    ids = tokenizer(images)
    assert ids.shape == (2, 4) and ids.dtype == torch.long  # a 2 x 2 grid of 16-px patches
    x = torch.nn.functional.interpolate(images, size=(16, 16), mode='bilinear',
                                        align_corners=False) * 0.8 + 0.1
    assert torch.equal(ids, reference(x).argmax(1).flatten(1))
    assert not any(p.requires_grad for p in tokenizer.parameters())


def test_a_wrong_or_missing_file_fails_loudly(tmp_path):
    path = str(tmp_path / 'other.pth')
    torch.save({'conv.weight': torch.zeros(1)}, path)
    with pytest.raises(ValueError, match='not a DALL-E encoder'):
        DALLETokenizer(path, vocab_size=32, encoder=SMALL).init_weights()
    with pytest.raises(FileNotFoundError, match='encoder.pkl'):
        DALLETokenizer(str(tmp_path / 'none.pth'), vocab_size=32, encoder=SMALL).init_weights()
