from torch import Tensor


def patchify(images: Tensor, patch_size: int) -> Tensor:
    """(N, C, H, W) -> (N, L, p * p * C) patches in raster order, pixels (p, p, C) as MAE."""
    n, c, h, w = images.shape
    p = patch_size
    if h % p or w % p:
        raise ValueError(f'image size {(h, w)} is not a multiple of the patch size {p}')
    x = images.reshape(n, c, h // p, p, w // p, p)
    return x.permute(0, 2, 4, 3, 5, 1).reshape(n, (h // p) * (w // p), p * p * c)


def unpatchify(patches: Tensor, patch_size: int, grid: tuple[int, int]) -> Tensor:
    """The inverse of :func:`patchify`: (N, L, p * p * C) -> (N, C, H, W)."""
    n, _, d = patches.shape
    p, (gh, gw) = patch_size, grid
    c = d // (p * p)
    x = patches.reshape(n, gh, gw, p, p, c).permute(0, 5, 1, 3, 2, 4)
    return x.reshape(n, c, gh * p, gw * p)
