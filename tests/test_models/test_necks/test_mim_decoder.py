import torch
from mmpretrain.models.necks import MAEPretrainDecoder

from mmssl.models.utils.mask_generators import kept_first_order, random_mask
from mmssl.registry import MODELS
from tests._mim import NUM_PATCHES, tiny_decoder


def test_same_predictions_as_mmpretrains_decoder_and_hidden_tokens():
    torch.manual_seed(0)
    decoder = MODELS.build(tiny_decoder())
    decoder.init_weights()
    reference = MAEPretrainDecoder(**{k: v for k, v in tiny_decoder().items() if k != 'type'})
    reference.load_state_dict(decoder.state_dict())
    mask = random_mask(3, NUM_PATCHES, 0.75)
    latent = torch.randn(3, 1 + 4, 32)
    ids_restore = kept_first_order(mask)[1]
    pred, hidden = decoder(latent, ids_restore, return_hidden=True)
    assert pred.shape == (3, NUM_PATCHES, 48) and hidden.shape == (3, NUM_PATCHES, 16)
    assert torch.allclose(pred, reference(latent, ids_restore), atol=1e-6)
    assert torch.allclose(decoder.decoder_pred(hidden), pred)
    assert torch.equal(decoder(latent, ids_restore), pred)
