"""The three ways of getting keys for instance discrimination (MoCo paper, Fig. 2).

A dictionary tells :class:`~mmssl.models.algorithms.MoCo` which encoder computes the
key of the second view (``key_encoder``), turns that key into the positive and the
negatives of the InfoNCE loss (:meth:`lookup`), and records the step (:meth:`update`):

========================  ============  ==================================  ==============
dictionary                key encoder   negatives                           K
========================  ============  ==================================  ==============
:class:`InBatchKeys`      the online    the other keys of the global batch  batch - 1
                          (gradients)
:class:`MemoryBankKeys`   none          m rows sampled from a per-image     m
                                        bank, positive = the image's row
:class:`QueueKeys`        momentum      a FIFO queue of past keys           queue length
========================  ============  ==================================  ==============

The loss is the same :class:`~mmssl.models.heads.InfoNCEHead` for all three. Keys, by
either encoder, are computed with Shuffling BN (:mod:`mmssl.models.utils.shuffle_bn`).
"""
from typing import Optional

from torch import Tensor, nn

from mmssl.registry import MODELS
from mmssl.utils.dist import concat_all_gather
from .fifo_queue import FIFOQueue
from .memory_bank import MemoryBank


class ContrastDictionary(nn.Module):
    """The interface of a dictionary (see the module docstring).

    Attributes:
        key_encoder: ``'online'`` (the query encoder, with gradients), ``'momentum'``
            (the EMA key encoder, no gradients), both with Shuffling BN, or ``None`` (no
            key is computed).
        needs_sample_idx: whether :meth:`lookup`/:meth:`update` need the dataset index
            of each image.
        dim: D of the keys it stores (``model.dictionary.dim``), or ``None`` if it
            stores none.
    """

    key_encoder: Optional[str] = None
    needs_sample_idx: bool = False
    dim: Optional[int] = None

    def lookup(self, query: Optional[Tensor], key: Optional[Tensor],
               sample_idx: Optional[Tensor]) -> tuple[Tensor, Optional[Tensor]]:
        """(positive (n, D), negatives (K, D), (n, K, D) or None for in-batch).

        query (n, D) may be None for a dictionary that does not read it (QueueKeys).
        """
        raise NotImplementedError

    def update(self, query: Optional[Tensor], key: Optional[Tensor],
               sample_idx: Optional[Tensor]) -> None:
        """Record this step's query (n, D) / key (n, D) after the loss was computed."""


@MODELS.register_module()
class InBatchKeys(ContrastDictionary):
    """End-to-end: the query encoder also computes the keys (with gradients, and with
    Shuffling BN as in the MoCo paper's end-to-end baseline), and the negatives of a
    query are the keys of the other images of the global batch (K = batch - 1)."""

    key_encoder = 'online'

    def lookup(self, query, key, sample_idx):
        return key, None


@MODELS.register_module()
class MemoryBankKeys(ContrastDictionary):
    """NPID's memory bank: the positive is the bank row of the query's own image, the
    negatives ``num_negatives`` rows drawn at random; after the step the query's rows
    take the proximal update (see :class:`MemoryBank`).

    Args:
        size: N, the number of images in the training set (``sample_idx`` < N).
        num_negatives: m (4096 in NPID).
        dim: D of the features (128).
        proximal_weight: w of the proximal update ``v <- normalise(w * v + (1 - w) * f)``
            (0.5).
    """

    needs_sample_idx = True

    def __init__(self, size: int, num_negatives: int = 4096, dim: int = 128,
                 proximal_weight: float = 0.5) -> None:
        super().__init__()
        self.bank = MemoryBank(dim, size, proximal_weight)
        self.dim = dim
        self.num_negatives = num_negatives
        self._indices_checked = False

    def lookup(self, query, key, sample_idx):
        if not self._indices_checked:  # one host sync, on the first step only
            top = int(sample_idx.max())
            if top >= self.bank.size:
                raise ValueError(f'sample_idx {top} is out of the memory bank of '
                                 f'model.dictionary.size={self.bank.size}; set it to the '
                                 f'number of training images')
            self._indices_checked = True
        return (self.bank.lookup(sample_idx),
                self.bank.sample(query.shape[0], self.num_negatives))

    def update(self, query, key, sample_idx):
        self.bank.update(sample_idx, query.detach())


@MODELS.register_module()
class QueueKeys(ContrastDictionary):
    """MoCo: keys from the momentum encoder, negatives from a FIFO queue of the keys of
    past batches (gathered from all ranks). DenseCL keeps its global and dense keys in two.

    Args:
        queue_length: K, a multiple of the global batch size.
        dim: D of the keys (128).
        length_key: the config key that sets ``queue_length``, named by the error on a
            batch that does not divide it (the owner's wiring, not a config value).
    """

    key_encoder = 'momentum'

    def __init__(self, queue_length: int = 65536, dim: int = 128,
                 length_key: str = 'model.dictionary.queue_length') -> None:
        super().__init__()
        self.queue = FIFOQueue(dim, queue_length, length_key=length_key)
        self.dim = dim

    def lookup(self, query, key, sample_idx):
        return key, self.queue.snapshot()

    def update(self, query, key, sample_idx):
        self.queue.enqueue(concat_all_gather(key))
