"""Tiny masked-image-modeling models the MIM tests share: a 2-layer ViT on 16-px images."""
import torch

from mmssl.registry import MODELS

IMG, PATCH, DIM = 16, 4, 32
NUM_PATCHES = (IMG // PATCH) ** 2  # 16
IDENTITY_PREPROCESSOR = dict(mean=[0, 0, 0], std=[1, 1, 1], to_rgb=False)


def tiny_vit(**kwargs) -> dict:
    arch = dict(embed_dims=DIM, num_layers=2, num_heads=2, feedforward_channels=64)
    return dict(type='MaskedViT', arch=arch, img_size=IMG, patch_size=PATCH, out_type='raw',
                **kwargs)


def tiny_decoder() -> dict:
    return dict(type='MIMDecoder', num_patches=NUM_PATCHES, patch_size=PATCH, in_chans=3,
                embed_dim=DIM, decoder_embed_dim=16, decoder_depth=1, decoder_num_heads=2)


def build(cfg: dict):
    model = MODELS.build(dict(cfg, data_preprocessor=IDENTITY_PREPROCESSOR))
    model.init_weights()
    return model


def build_mae(mask_ratio=0.75):
    return build(dict(type='MAE', backbone=tiny_vit(sincos_pos_embed=True), neck=tiny_decoder(),
                      head=dict(type='PixelReconstructionHead', patch_size=PATCH, norm_pix=True),
                      mask_ratio=mask_ratio))


def build_simmim():
    return build(dict(type='SimMIM', backbone=tiny_vit(mask_token=True), mask_patch_size=8,
                      mask_ratio=0.5,
                      neck=dict(type='SimMIMLinearDecoder', in_channels=DIM, encoder_stride=PATCH),
                      head=dict(type='PixelReconstructionHead', patch_size=PATCH, loss='l1')))


def build_splitmask(contrastive_weight=0.5):
    return build(dict(type='SplitMask', backbone=tiny_vit(), neck=tiny_decoder(),
                      head=dict(type='PixelReconstructionHead', patch_size=PATCH, norm_pix=True),
                      contrastive_head=dict(type='InfoNCEHead', temperature=0.2),
                      contrastive_weight=contrastive_weight))


def kmeans_tokenizer(vocab_size=8, seed=0):
    """A KMeansTokenizer for 4-px patches with a fixed random codebook."""
    tokenizer = MODELS.build(dict(type='KMeansTokenizer', patch_size=PATCH,
                                  vocab_size=vocab_size, norm_pix=True))
    gen = torch.Generator().manual_seed(seed)
    tokenizer.set_codebook(torch.randn(vocab_size, PATCH * PATCH * 3, generator=gen))
    return tokenizer


def build_beit(vocab_size=8):
    return build(dict(type='BEiT', backbone=tiny_vit(mask_token=True), num_masked=6,
                      min_block=2,
                      head=dict(type='TokenPredictionHead', vocab_size=vocab_size,
                                in_channels=DIM, tokenizer=kmeans_tokenizer(vocab_size))))


def images(n: int = 4, seed: int = 0) -> torch.Tensor:
    """A fixed random batch (n, 3, IMG, IMG)."""
    return torch.randn(n, 3, IMG, IMG, generator=torch.Generator().manual_seed(seed))


def losses_on_a_fixed_batch(build_model, steps: int = 8) -> list[float]:
    """The training losses of ``steps`` AdamW steps (lr 2e-3) of ``build_model()`` (built
    after seeding 0) on one fixed batch of 8 images, with the same random mask every step."""
    from mmengine.optim import OptimWrapper
    torch.manual_seed(0)
    model = build_model()
    data = dict(inputs=[images(8, seed=1)], data_samples=None)
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=2e-3))
    losses = []
    for _ in range(steps):
        torch.manual_seed(1)  # the same mask (or split) every step
        losses.append(model.train_step(data, optim)['loss'].item())
    return losses
