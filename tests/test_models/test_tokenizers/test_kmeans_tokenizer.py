import pytest
import torch

from mmssl.models.tokenizers import KMeansTokenizer
from mmssl.models.utils.patches import patchify
from tests._mim import kmeans_tokenizer


def test_ids_are_the_nearest_centroid_of_each_normalised_patch():
    tokenizer = kmeans_tokenizer(vocab_size=8)
    images = torch.randn(2, 3, 16, 16)
    ids = tokenizer(images)
    assert ids.shape == (2, 16) and ids.dtype == torch.long
    p = patchify(images, 4)
    p = (p - p.mean(-1, keepdim=True)) / (p.var(-1, keepdim=True) + 1e-6) ** .5
    expected = torch.cdist(p.reshape(-1, 48), tokenizer.codebook).argmin(1).view(2, 16)
    assert torch.equal(ids, expected)
    # a centroid is its own token
    image = torch.zeros(1, 3, 4, 4)
    image[0] = tokenizer.codebook[5].view(4, 4, 3).permute(2, 0, 1)
    tokenizer.norm_pix = False
    assert tokenizer(image).item() == 5


def test_codebook_file_loads_in_init_weights(tmp_path):
    path = str(tmp_path / 'codebook.pth')
    codebook = torch.randn(8, 48)
    torch.save(dict(codebook=codebook, meta=dict(vocab_size=8)), path)
    tokenizer = KMeansTokenizer(patch_size=4, vocab_size=8, codebook=path)
    assert not tokenizer.codebook.any()  # a config builds before the file exists
    tokenizer.init_weights()
    assert torch.equal(tokenizer.codebook, codebook)
    assert 'codebook' in tokenizer.state_dict() and not list(tokenizer.parameters())
    with pytest.raises(FileNotFoundError, match='build_kmeans_tokenizer'):
        KMeansTokenizer(patch_size=4, vocab_size=8, codebook=str(tmp_path / 'no')).init_weights()
    with pytest.raises(ValueError, match='vocab_size, p'):
        KMeansTokenizer(patch_size=4, vocab_size=4).set_codebook(codebook)
