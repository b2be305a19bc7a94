import os.path as osp

import torch

from mmssl.models.tokenizers import KMeansTokenizer
from tests._helpers import REPO_ROOT

CONFIG = osp.join(REPO_ROOT, 'configs/beit/beit_vit-tiny-p4_1xb256-coslr-2e_fmnist.py')


def test_builds_a_codebook_the_tokenizer_loads(tmp_path, fashion_mnist_root):
    from tools.analysis.build_kmeans_tokenizer import main
    out = str(tmp_path / 'codebook.pth')
    main([CONFIG, '--out', out, '--images', '64', '--iters', '3', '--vocab-size', '16',
          '--batch-size', '32'])
    data = torch.load(out, weights_only=True)
    assert data['codebook'].shape == (16, 4 * 4 * 3)
    assert data['meta']['patches'] == 64 * 64  # 64 views of 8 x 8 patches
    assert data['meta']['norm_pix'] is True
    # centroids of per-patch normalised patches are (nearly) zero-mean
    assert data['codebook'].mean(1).abs().max() < 1e-4
    tokenizer = KMeansTokenizer(patch_size=4, vocab_size=16, codebook=out)
    tokenizer.init_weights()
    ids = tokenizer(torch.randn(2, 3, 32, 32))
    assert ids.shape == (2, 64) and int(ids.max()) < 16
    assert not osp.exists(out + '.tmp')
