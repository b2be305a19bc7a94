from typing import Optional, Sequence, Union

import torch
from mmengine.dist import get_rank
from mmengine.logging import print_log
from mmengine.model import BaseDataPreprocessor
from torch import Tensor, nn

from mmssl.registry import MODELS
from .batch_view_augments import BatchRandomResizedCrop, full_image_sizes


@MODELS.register_module()
class SelfSupDataPreprocessor(BaseDataPreprocessor):
    """Moves the views of a batch to the model's device, then normalises them there.

    The dataloader collates (``default_collate``) what ``PackInputs`` packed: a batch
    tensor (N, C, H, W) uint8 for one view, or a list of V such batches for V views
    (``MultiView``). Transfer happens in uint8 (a quarter of float32's bytes), the
    conversion and normalisation on the device.

    With ``device_views`` the views are made here instead, on the device: the pipeline
    packs one decoded image per sample, and in training each of ``num_views`` views is a
    fresh draw of ``transforms`` (batched ops such as ``BatchRandomResizedCrop``, see
    ``batch_view_augments.py``) applied to the whole batch at once, values in [0, 255],
    channels in RGB order, then normalised. Outside training the batch is only
    normalised. Images of different sizes come zero-padded in one batch with their
    ``image_sizes`` (N, 2) [h, w] (``collate_fn=dict(type='mmssl.pad_collate')``); the
    first transform of each group must then be a ``BatchRandomResizedCrop``, whose boxes
    stay inside each image. The random parameters are drawn from this preprocessor's own
    generator on the device (seeded with ``seed`` + rank, or from torch's seeded global
    RNG when ``seed`` is None), per sample, with no host sync: for each group, each view
    and each transform in order, ``sample_params`` then ``apply``
    (:meth:`draw_view_params`, :meth:`apply_view_params`).

    Multi-crop (views of several sizes): ``view_groups`` lists groups of views, each
    ``dict(num_views=n, transforms=[...])`` with its own transforms (e.g. 2 global views
    at 24 px, then 6 local ones at 12 px). The views come out group by group, in order,
    each at its own size: a list of (N, C, h_v, w_v) batches, neither copied nor padded
    to one size. A ``MultiView`` pipeline with groups of different sizes gives the same
    list from the CPU; it is normalised view by view.

    Args:
        mean, std: per-channel values, in the channel order of the output.
        to_rgb: reverse the channel order first (images decoded by OpenCV are BGR).
        num_views: the number of views a training batch must hold (checked when set) or,
            with ``device_views``, the number of views to make (required then). With
            ``view_groups`` it may be left out; it is then their total.
        device_views: configs of the batched view transforms, in order.
        view_groups: groups of device views, ``dict(num_views=n, transforms=[...])``;
            replaces ``device_views``.
        seed: seed of the device views' generator (rank r uses ``seed + r``).
        non_blocking: copy the batch to the device without waiting for the device
            (mmengine's ``cast_data``; its default is False). From a ``pin_memory=True``
            loader, as every ImageNet config has, the copy is queued behind the previous
            step and the host goes on launching this one; a blocking copy would wait for
            the device every step. From pageable memory the copy is staged as before.
    """

    def __init__(self,
                 mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375),
                 to_rgb: bool = True,
                 num_views: Optional[int] = None,
                 device_views: Optional[Sequence[dict]] = None,
                 view_groups: Optional[Sequence[dict]] = None,
                 seed: Optional[int] = None,
                 non_blocking: bool = True) -> None:
        super().__init__(non_blocking=non_blocking)
        if len(mean) != len(std):
            raise ValueError(f'mean {tuple(mean)} and std {tuple(std)} differ in length')
        self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1),
                             persistent=False)
        self.register_buffer('std', torch.tensor(std, dtype=torch.float32).view(-1, 1, 1),
                             persistent=False)
        self.to_rgb = to_rgb
        if device_views is not None:
            if view_groups is not None:
                raise ValueError('SelfSupDataPreprocessor: give device_views (one group of '
                                 'num_views views) or view_groups, not both')
            if not num_views:
                raise ValueError('SelfSupDataPreprocessor: device_views needs num_views, '
                                 'the number of views to make')
            view_groups = [dict(num_views=num_views, transforms=device_views)]
        # One transform chain per group of device views, and its number of views.
        self.view_groups: Optional[nn.ModuleList] = None
        self.views_per_group: list[int] = []
        if view_groups is not None:
            self.view_groups = nn.ModuleList()
            for group in view_groups:
                if set(group) != {'num_views', 'transforms'} or group['num_views'] < 1:
                    raise ValueError(f'each view group is dict(num_views=n >= 1, '
                                     f'transforms=[...]), got {group}')
                self.view_groups.append(nn.ModuleList(
                    [MODELS.build(t) for t in group['transforms']]))
                self.views_per_group.append(group['num_views'])
            if num_views is not None and num_views != sum(self.views_per_group):
                raise ValueError(f'num_views={num_views} differs from the '
                                 f'{sum(self.views_per_group)} views of view_groups')
            num_views = sum(self.views_per_group)
        self.num_views = num_views
        self.seed = seed
        self._generator: Optional[torch.Generator] = None
        self._pending_generator_state: Optional[Tensor] = None

    def normalize(self, batch: Tensor, flip_channels: Optional[bool] = None) -> Tensor:
        """(N, C, H, W) uint8 or float on the device -> normalised float32.

        ``flip_channels``: reverse the channel order first (default ``to_rgb``).
        """
        if batch.ndim != 4 or batch.shape[1] != self.mean.shape[0]:
            raise ValueError(f'expected image batches (N, {self.mean.shape[0]}, H, W), '
                             f'got {tuple(batch.shape)}')
        if self.to_rgb if flip_channels is None else flip_channels:
            batch = batch.flip(1)
        return (batch.float() - self.mean) / self.std

    def generator(self, device: torch.device) -> torch.Generator:
        """The generator of the device views' random parameters, made on first use."""
        if self._generator is None or self._generator.device != torch.device(device):
            pending, self._pending_generator_state = self._pending_generator_state, None
            self._generator = torch.Generator(device=device)
            if pending is not None:  # restored from a checkpoint before first use
                self.set_extra_state(pending)
            else:  # (a resumed run must not draw from the global RNG here: it is restored)
                self._seed_generator()
        return self._generator

    def get_extra_state(self) -> Tensor:
        """The device views' generator state (uint8; empty before first use), saved in
        checkpoints so that a resumed run draws the views it would have drawn."""
        if self._generator is None:
            return torch.zeros(0, dtype=torch.uint8)
        return self._generator.get_state()

    def set_extra_state(self, state: Tensor) -> None:
        if not isinstance(state, Tensor) or state.numel() == 0:
            return
        if self._generator is None:
            self._pending_generator_state = state
            return
        try:
            self._generator.set_state(state)
        except RuntimeError:  # saved on another kind of device
            print_log('SelfSupDataPreprocessor: the saved view generator state is for '
                      'another device type; the views are drawn from a fresh seed',
                      logger='current', level=30)
            self._seed_generator()

    def _seed_generator(self) -> None:
        self._generator.manual_seed(int(torch.randint(2**62, ())) if self.seed is None
                                    else self.seed + get_rank())

    def draw_view_params(self, n: int, image_sizes: Tensor,
                         device: torch.device) -> list[list[dict]]:
        """Random parameters of every view: per view, one dict per transform.

        image_sizes: (n, 2) [h, w] of each image (``full_image_sizes`` when unpadded).
        """
        generator = self.generator(device)
        params = []
        for transforms, count in zip(self.view_groups, self.views_per_group):
            for _ in range(count):
                sizes = image_sizes
                view = []
                for transform in transforms:
                    view.append(transform.sample_params(n, generator, sizes))
                    sizes = None  # after the crop every image fills the batch
                params.append(view)
        return params

    def apply_view_params(self, batch: Tensor, params: list[list[dict]],
                          image_sizes: Tensor) -> list[Tensor]:
        """(N, C, H, W) RGB float in [0, 255] -> one normalised batch per view."""
        groups = [transforms for transforms, count in zip(self.view_groups,
                                                          self.views_per_group)
                  for _ in range(count)]
        views = []
        for transforms, view_params in zip(groups, params):
            view, sizes = batch, image_sizes
            for transform, transform_params in zip(transforms, view_params):
                view = transform.apply_params(view, transform_params, sizes)
                sizes = None
            views.append(self.normalize(view, flip_channels=False))
        return views

    def make_views(self, batch: Tensor, image_sizes: Optional[Tensor] = None) -> list[Tensor]:
        """(N, C, H, W) uint8 -> ``num_views`` augmented, normalised views, group by group."""
        if not isinstance(batch, Tensor):
            raise ValueError('SelfSupDataPreprocessor with device_views expects one image per '
                             f'sample from the pipeline, got a list of {len(batch)} views; '
                             'drop MultiView from the pipeline')
        if image_sizes is not None:
            for transforms in self.view_groups:
                if not isinstance(transforms[0], BatchRandomResizedCrop):
                    raise ValueError(
                        'padded images of different sizes (image_sizes from pad_collate) '
                        'need a BatchRandomResizedCrop as the first transform of every '
                        f'view group, got {type(transforms[0]).__name__}')
        if image_sizes is None:
            image_sizes = full_image_sizes(batch)
        # In float32 even inside a bfloat16 autocast region (mmengine runs the
        # preprocessor there): the views must not depend on the model's precision.
        with torch.autocast(batch.device.type, enabled=False):
            batch = batch.float()
            if self.to_rgb:  # the colour transforms expect RGB
                batch = batch.flip(1)
            params = self.draw_view_params(batch.shape[0], image_sizes, batch.device)
            return self.apply_view_params(batch, params, image_sizes)

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs: Union[Tensor, list[Tensor]] = data['inputs']
        if training and self.view_groups is not None:
            views = self.make_views(inputs, data.get('image_sizes'))
        elif isinstance(inputs, Tensor):
            views = self.normalize(inputs)
        else:
            if training and self.num_views is not None and len(inputs) != self.num_views:
                raise ValueError(f'the data preprocessor expects {self.num_views} views per '
                                 f'image, the pipeline gave {len(inputs)}')
            views = [self.normalize(view) for view in inputs]
        return dict(inputs=views, data_samples=data.get('data_samples'))
