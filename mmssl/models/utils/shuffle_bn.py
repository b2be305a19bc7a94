"""Shuffling BN (MoCo): a key is normalised by the batch statistics of other images than
those that normalise its query.

A query and its positive key are two views of one image; if both were normalised by BN
statistics of the same images, the encoder could find the positive by those statistics
instead of by its content (the MoCo paper, Sec. 3.3). With several processes each rank's
BN sees its own part of the global batch, and the keys are computed on the global batch
shuffled across ranks (:func:`~mmssl.utils.dist.batch_shuffle_ddp`), then unshuffled.

One process emulates ``bn_splits`` ranks in one pass, as the MoCo authors' CIFAR demo
does with its SplitBatchNorm: :func:`convert_split_bn` gives the encoders
:class:`SplitBatchNorm1d`/:class:`SplitBatchNorm2d` layers (the same parameters, buffers and
state-dict keys), which inside :func:`split_batch_norm` normalise every group of images by
the group's own statistics: image n of the batch is in group ``n % bn_splits``, and the
batch (N, C, ...) is normalised as (N / bn_splits, bn_splits * C, ...). The queries keep
the batch order; the keys are computed on the batch reordered by :func:`key_permutation`,
whose groups each take their images evenly from all query groups.

On the CPU the encoder instead runs once per group (``x[g::bn_splits]``), the split BN
layers normalising each group by its own statistics and updating their running
statistics once, from the mean of the groups', as the one pass does: the same outputs,
gradients and state. The one pass folds the groups into the channels, which copies the
activations in and out of that layout at every BN layer; with the large maps of the
Fashion-MNIST demos' ResNet_CIFAR that made a CPU step half as slow again as the groups
one by one, while on a GPU the groups one by one launch every kernel ``bn_splits``
times (``tools/benchmark/shuffle_bn.py``; ``one_pass`` chooses explicitly).
"""
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Callable, Optional, TypeVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmssl.utils.dist import (batch_shuffle_ddp, batch_unshuffle_ddp, gather_with_grad,
                              get_rank, get_world_size, is_distributed)

Output = TypeVar('Output')  # a tensor (N, ...) or a tuple of them

# The default of the MoCo family's ``bn_splits``: the MoCo paper's 8 GPUs.
DEFAULT_BN_SPLITS = 8


class _SplitBatchNorm(_BatchNorm):
    """BatchNorm with per-group batch statistics in training (see the module docstring).

    ``num_groups`` (set by :func:`split_batch_norm`, 1 otherwise: plain BN): image n of the
    batch is normalised by the statistics of the images n' with ``n' % num_groups ==
    n % num_groups``. The running statistics take one update per forward, with the mean
    over the groups of their statistics. In eval mode the running statistics are used.
    """

    num_groups: int = 1
    #: inside :func:`per_group_batch_norm`: each group's batch statistics (mean, unbiased
    #: variance), for one running-statistics update after the groups
    group_stats: Optional[list[tuple[Tensor, Tensor]]] = None

    def forward(self, input: Tensor) -> Tensor:
        groups = self.num_groups
        uses_batch_stats = self.training or self.running_mean is None
        if self.group_stats is not None and uses_batch_stats:
            return self._one_group(input)
        if groups == 1 or not uses_batch_stats:
            return super().forward(input)
        self._check_input_dim(input)
        batch, channels = input.shape[:2]
        check_bn_splits(batch, groups)
        _check_values_per_channel(input.shape, groups, batch // groups)
        updates_running = self.training and self.track_running_stats
        weight = self.weight.repeat(groups) if self.weight is not None else None
        bias = self.bias.repeat(groups) if self.bias is not None else None
        grouped = input.contiguous().view(batch // groups, groups * channels, *input.shape[2:])
        out, mean, var = self._batch_norm(grouped, weight, bias, updates_running)
        out = out.view(input.shape)
        if updates_running:
            self._update_running_stats(mean.view(groups, channels), var.view(groups, channels))
        if input.dim() == 4 and not input.is_contiguous() and input.is_contiguous(
                memory_format=torch.channels_last):
            out = out.contiguous(memory_format=torch.channels_last)
        return out

    def _one_group(self, input: Tensor) -> Tensor:
        """One group's images (m, C, ...) by their own statistics; the running update waits
        for :meth:`update_running_stats`."""
        self._check_input_dim(input)
        _check_values_per_channel(input.shape, self.num_groups, input.shape[0])
        record = self.training and self.track_running_stats
        out, mean, var = self._batch_norm(input, self.weight, self.bias, record)
        if record:
            self.group_stats.append((mean, var))
        return out

    def update_running_stats(self) -> None:
        """One running-statistics update from the mean of the recorded groups' statistics
        (what the one pass makes), then stop recording."""
        stats, self.group_stats = self.group_stats, None
        if stats:
            means, variances = zip(*stats)
            self._update_running_stats(torch.stack(means), torch.stack(variances))

    def _batch_norm(self, x: Tensor, weight: Optional[Tensor], bias: Optional[Tensor],
                    with_stats: bool) -> tuple[Tensor, Optional[Tensor], Optional[Tensor]]:
        """``x`` (n, C', ...) normalised by its batch statistics, and with ``with_stats``
        its per-channel mean and unbiased variance (C',): with momentum 1, batch_norm
        leaves them in the buffers it is given (no extra reduction: a var_mean over a
        channels-last map cost as much as the convolutions on the CPU)."""
        if not with_stats:
            return F.batch_norm(x, None, None, weight, bias, True, 0.0, self.eps), None, None
        channels = x.shape[1]
        mean = self.running_mean.new_zeros(channels)
        var = self.running_var.new_ones(channels)
        out = F.batch_norm(x, mean, var, weight, bias, True, 1.0, self.eps)
        return out, mean, var

    @torch.no_grad()
    def _update_running_stats(self, means: Tensor, variances: Tensor) -> None:
        """One update of the running statistics by the mean over the groups of their
        statistics, ``means``/``variances`` (G, C), as ``nn.BatchNorm`` weighs them."""
        self.num_batches_tracked.add_(1)
        factor = (1.0 / float(self.num_batches_tracked) if self.momentum is None
                  else self.momentum)
        self.running_mean.lerp_(means.mean(0), factor)
        self.running_var.lerp_(variances.mean(0), factor)


def _check_values_per_channel(shape: torch.Size, groups: int, per_group: int) -> None:
    """A BN group needs more than one value per channel (PyTorch's error, with its cause)."""
    if per_group == 1 and math.prod(shape[2:]) == 1:
        raise ValueError(
            f'Shuffling BN on one process: model.bn_splits={groups} leaves one image per BN '
            f'group of the batch of {groups * per_group} images, one value per channel for a '
            f'BN layer on {tuple(shape[1:])}; use a smaller bn_splits')


class SplitBatchNorm1d(_SplitBatchNorm, nn.BatchNorm1d):
    """:class:`torch.nn.BatchNorm1d` on (N, C) or (N, C, L), per-group in training."""


class SplitBatchNorm2d(_SplitBatchNorm, nn.BatchNorm2d):
    """:class:`torch.nn.BatchNorm2d` on (N, C, H, W), per-group in training."""


_SPLIT_TYPES: dict[type, type] = {nn.BatchNorm1d: SplitBatchNorm1d,
                                  nn.BatchNorm2d: SplitBatchNorm2d}


def convert_split_bn(module: nn.Module) -> nn.Module:
    """``module`` with every ``nn.BatchNorm1d``/``nn.BatchNorm2d`` (exactly those types,
    not SyncBatchNorm) replaced by its split version holding the same parameter and buffer
    tensors, so state-dict keys and shapes do not change. Returns ``module`` itself unless
    it is such a layer."""
    split_type = _SPLIT_TYPES.get(type(module))
    if split_type is not None:
        split = split_type(module.num_features, module.eps, module.momentum, module.affine,
                           module.track_running_stats)
        for name, tensor in [*module.named_parameters(recurse=False),
                             *module.named_buffers(recurse=False)]:
            setattr(split, name, tensor)
        return split.train(module.training)
    for name, child in module.named_children():
        module.add_module(name, convert_split_bn(child))
    return module


def use_split_bn(model: nn.Module, bn_splits: int) -> int:
    """Give ``model`` split BN layers (:func:`convert_split_bn`) for Shuffling BN in
    ``bn_splits`` groups; returns ``bn_splits`` once checked to be an int >= 1."""
    if isinstance(bn_splits, bool) or not isinstance(bn_splits, int) or bn_splits < 1:
        raise ValueError(f'model.bn_splits must be an int >= 1 (the number of BN groups of '
                         f'Shuffling BN on one process), got {bn_splits!r}')
    convert_split_bn(model)
    return bn_splits


def check_bn_splits(batch: int, bn_splits: int) -> None:
    """Raise a ValueError unless ``bn_splits`` >= 1 divides the per-process batch."""
    if bn_splits < 1 or batch % bn_splits:
        raise ValueError(f'Shuffling BN on one process: model.bn_splits={bn_splits} must be '
                         f'>= 1 and divide the batch of {batch} images; set bn_splits to a '
                         f'divisor of the batch size (1 turns Shuffling BN off)')


@contextmanager
def split_batch_norm(module: nn.Module, bn_splits: int, batch: int) -> Iterator[None]:
    """Inside, the split BN layers of ``module`` use ``bn_splits`` groups on a batch of
    ``batch`` images (checked). With several processes, plain BN: each rank's batch is one
    group."""
    groups = 1 if is_distributed() else bn_splits
    check_bn_splits(batch, groups)
    layers = [m for m in module.modules() if isinstance(m, _SplitBatchNorm)]
    for layer in layers:
        layer.num_groups = groups
    try:
        yield
    finally:
        for layer in layers:
            layer.num_groups = 1


@contextmanager
def per_group_batch_norm(module: nn.Module, bn_splits: int) -> Iterator[None]:
    """Inside, the split BN layers of ``module`` take each forward as one of ``bn_splits``
    groups of images and record its batch statistics; on leaving, each makes one running
    update from their mean (none if an error left the block)."""
    layers = [m for m in module.modules() if isinstance(m, _SplitBatchNorm)]
    for layer in layers:
        layer.group_stats, layer.num_groups = [], bn_splits
    completed = False
    try:
        yield
        completed = True
    finally:
        for layer in layers:
            if completed:
                layer.update_running_stats()
            layer.group_stats, layer.num_groups = None, 1


def key_permutation(batch: int, bn_splits: int, device: torch.device) -> Tensor:
    """(batch,) a random order for the keys: position p of the reordered batch holds image
    ``perm[p]``, which is in key group ``p % bn_splits``.

    Each key group takes its m = batch / bn_splits images evenly from the bn_splits query
    groups (image n in query group ``n % bn_splits``): the k-th image (in a random order)
    of query group g goes to key group ``(g + k) % bn_splits``. So the key group of image n
    shares at most ceil(m / bn_splits) images with its query group (only n itself when
    m <= bn_splits), whereas a uniform permutation may map a group onto itself.
    """
    check_bn_splits(batch, bn_splits)
    per_group = batch // bn_splits
    # rank[r, g]: the random rank within query group g of image r * bn_splits + g.
    rank = torch.rand(per_group, bn_splits, device=device).argsort(dim=0)
    query_group = torch.arange(bn_splits, device=device)
    key_group = (query_group + rank) % bn_splits
    # Images sorted by key group: row h of the (bn_splits, per_group) view is key group h.
    members = torch.argsort(key_group.flatten(), stable=True).view(bn_splits, per_group)
    return members.t().flatten()


def _map_outputs(fn: Callable[[Tensor], Tensor], out: Output) -> Output:
    if isinstance(out, Tensor):
        return fn(out)
    items = [fn(item) for item in out]
    return type(out)(*items) if hasattr(out, '_fields') else type(out)(items)


def _unshuffle_ddp(out: Tensor, idx_unshuffle: Tensor) -> Tensor:
    """:func:`batch_unshuffle_ddp`, with gradients to the ranks that computed ``out``
    when grad mode is on."""
    if not torch.is_grad_enabled():
        return batch_unshuffle_ddp(out, idx_unshuffle)
    local = idx_unshuffle.view(get_world_size(), -1)[get_rank()]
    return gather_with_grad(out)[local]


def _interleave(outs: list[Output]) -> Output:
    """The outputs (N / G, ...) of groups ``x[g::G]`` back in the order of ``x``."""
    first = outs[0]
    if isinstance(first, Tensor):
        return torch.stack(outs, dim=1).flatten(0, 1)
    items = [torch.stack(parts, dim=1).flatten(0, 1) for parts in zip(*outs)]
    return type(first)(*items) if hasattr(first, '_fields') else type(first)(items)


def forward_in_splits(encoder: Callable[[Tensor], Output], x: Tensor, bn_splits: int,
                      norm_owner: nn.Module, one_pass: Optional[bool] = None) -> Output:
    """``encoder(x)`` for a batch ``x`` (N, ...) with the split BN layers of ``norm_owner``
    in ``bn_splits`` groups (on one process): the queries' forward.

    ``one_pass``: the whole batch at once (split BN) or the encoder once per group
    (``x[g::bn_splits]``); the same result. None: once per group on the CPU, in one pass
    elsewhere (see the module docstring).
    """
    groups = 1 if is_distributed() else bn_splits
    if one_pass is None:
        one_pass = x.device.type != 'cpu'
    if groups == 1 or one_pass:
        with split_batch_norm(norm_owner, bn_splits, x.shape[0]):
            return encoder(x)
    check_bn_splits(x.shape[0], groups)
    with per_group_batch_norm(norm_owner, groups):
        outs = [encoder(x[group::groups]) for group in range(groups)]
    return _interleave(outs)


def forward_shuffled(encoder: Callable[[Tensor], Output], x: Tensor, bn_splits: int,
                     norm_owner: nn.Module, one_pass: Optional[bool] = None) -> Output:
    """``encoder(x)`` with Shuffling BN, outputs (N, ...) in the order of ``x`` (N, ...):
    the keys' forward. ``encoder`` returns a tensor or a tuple of them; gradients flow
    back through it when grad mode is on (end-to-end keys).

    Several processes: the global batch shuffled across ranks, plain BN on each. One
    process: the batch reordered by :func:`key_permutation`, the split BN layers of
    ``norm_owner`` in ``bn_splits`` groups (``bn_splits=1``: plain BN, no shuffle);
    ``one_pass`` as :func:`forward_in_splits`.
    """
    if is_distributed():
        shuffled, idx_unshuffle = batch_shuffle_ddp(x)
        return _map_outputs(lambda out: _unshuffle_ddp(out, idx_unshuffle), encoder(shuffled))
    if bn_splits == 1:
        return encoder(x)
    perm = key_permutation(x.shape[0], bn_splits, x.device)
    out = forward_in_splits(encoder, x[perm], bn_splits, norm_owner, one_pass)
    inverse = torch.argsort(perm)
    return _map_outputs(lambda item: item[inverse], out)
