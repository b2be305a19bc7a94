import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmssl.registry import MODELS
from mmssl.utils.dist import concat_all_gather


def first_occurrence_rows(indices: Tensor) -> tuple[Tensor, Tensor]:
    """Sorted ``indices`` and, for each, the position in ``indices`` of its first copy.

    indices: (B,) row numbers, possibly repeated. Returns (sorted_indices (B,),
    source (B,)): entry j of the sorted order takes its value from ``source[j]``, the
    earliest position holding the same row, so repeated rows all receive one value.
    Sorting and a running maximum keep this on the device (no host sync).
    """
    sorted_indices, order = torch.sort(indices, stable=True)
    is_first = torch.ones_like(sorted_indices, dtype=torch.bool)
    is_first[1:] = sorted_indices[1:] != sorted_indices[:-1]
    positions = torch.arange(indices.numel(), device=indices.device)
    # For each sorted entry: the sorted position of the first entry of its group.
    group_start = torch.cummax(torch.where(is_first, positions, 0), dim=0).values
    return sorted_indices, order[group_start]


@MODELS.register_module()
class MemoryBank(nn.Module):
    """A per-image bank of L2-normalised features (NPID, Wu et al. 2018).

    Row i holds the running feature of dataset image i, updated by the proximal rule
    ``v_i <- normalise(w * v_i + (1 - w) * f_i)``, w = ``proximal_weight`` (0.5 in NPID).
    The rows are a buffer, so checkpoints save them and a resume restores them.

    In distributed training each rank keeps a full replica. :meth:`update` gathers the
    (index, feature) pairs of the global batch and every rank applies the same update,
    so the replicas stay identical, and each row is written exactly once per step
    however the batch is split: an image that appears twice in the global batch (e.g.
    the padding of a distributed sampler) is updated once, from its first copy in rank
    order.

    Args:
        dim: D, the feature dimension (128 in NPID).
        size: N, the number of images in the dataset.
        proximal_weight: w, the weight of the stored row in the proximal update (0.5).
    """

    def __init__(self, dim: int, size: int, proximal_weight: float = 0.5) -> None:
        super().__init__()
        if dim <= 0 or size <= 0:
            raise ValueError(f'MemoryBank needs dim > 0 and size > 0, got dim={dim}, '
                             f'size={size}')
        if not 0 <= proximal_weight < 1:
            raise ValueError(f'MemoryBank proximal_weight must be in [0, 1), '
                             f'got {proximal_weight}')
        self.dim, self.size, self.proximal_weight = dim, size, proximal_weight
        # Random unit vectors until the first visit of each image, as in NPID.
        self.register_buffer('feats', F.normalize(torch.randn(size, dim), dim=1))

    def _check_indices(self, indices: Tensor) -> None:
        if indices.ndim != 1 or indices.dtype not in (torch.int32, torch.int64):
            raise ValueError(f'MemoryBank indices must be a 1-D integer tensor, got '
                             f'{tuple(indices.shape)} {indices.dtype}')

    def lookup(self, indices: Tensor) -> Tensor:
        """(B, D) a copy of the rows of ``indices`` (B,), safe to use before an update."""
        self._check_indices(indices)
        return self.feats.index_select(0, indices)

    def sample(self, batch: int, num_negatives: int) -> Tensor:
        """(batch, num_negatives, D) rows drawn uniformly with replacement (NPID's m)."""
        rows = torch.randint(self.size, (batch, num_negatives), device=self.feats.device)
        return self.feats[rows]

    @torch.no_grad()
    def update(self, indices: Tensor, feats: Tensor) -> None:
        """Apply the proximal update for this rank's ``indices`` (n,) and ``feats`` (n, D).

        Gathers both from all ranks first; call it on every rank, once per step.

        Raises:
            ValueError: naming the shapes, if they disagree with the bank.
        """
        self._check_indices(indices)
        if feats.shape != (indices.numel(), self.dim):
            raise ValueError(f'MemoryBank(dim={self.dim}) cannot take features of shape '
                             f'{tuple(feats.shape)} for {indices.numel()} indices')
        all_indices = concat_all_gather(indices.long())
        all_feats = concat_all_gather(feats.to(self.feats.dtype))
        rows, source = first_occurrence_rows(all_indices)
        weight = self.proximal_weight
        new = F.normalize(weight * self.feats[rows] + (1 - weight) * all_feats[source], dim=1)
        # Repeated rows receive identical values, so the write order does not matter.
        self.feats.index_copy_(0, rows, new)

    def extra_repr(self) -> str:
        return f'dim={self.dim}, size={self.size}, proximal_weight={self.proximal_weight}'
