from abc import ABCMeta, abstractmethod
from typing import Any, Optional, Sequence, Union

import torch
from mmengine.model import BaseModel
from mmpretrain.structures import DataSample
from torch import Tensor, nn

from mmssl.models.utils.build import ModuleCfg, build_module
from mmssl.models.utils.progress import TrainingProgress
from mmssl.registry import MODELS


def pool_features(feat: Tensor) -> Tensor:
    """(N, C) global features from a backbone output.

    (N, C, H, W) maps are average-pooled, (N, L, C) token sequences averaged over
    tokens, (N, C) vectors returned as they are.
    """
    if feat.ndim == 4:
        return feat.mean(dim=(2, 3))
    if feat.ndim == 3:
        return feat.mean(dim=1)
    if feat.ndim == 2:
        return feat
    raise ValueError(f'cannot pool a backbone output of shape {tuple(feat.shape)}')


class BaseSelfSupervisor(BaseModel, metaclass=ABCMeta):
    """The base of every mmssl algorithm (docs/contributing.md, convention 1).

    Builds ``backbone``, ``neck`` and ``head`` from config dicts (or takes modules),
    and gives every algorithm the three modes of mmengine's ``forward``:

    - ``'loss'``: :meth:`loss`, a dict of losses, for training;
    - ``'predict'``: :meth:`predict`, data samples carrying the pooled backbone feature
      of their image in ``feat`` (what kNN and linear evaluations read);
    - ``'tensor'``: :meth:`extract_feat`, the backbone's raw outputs.

    Online linear probe (solo-learn's online evaluation), for any algorithm: with
    ``online_probe`` a linear classifier is trained alongside pretraining on the pooled
    last backbone output of the first view, detached (no gradient reaches the backbone),
    by its own cross-entropy on the data samples' ``gt_label``. Its ``loss_probe`` joins
    the training losses and its batch accuracy is logged as ``acc_probe``; in predict
    mode it adds ``pred_score``/``pred_label`` to the data samples. An algorithm that
    computes the first view's backbone output anyway hands it over from :meth:`loss`
    with :meth:`set_probe_features`; otherwise the probe costs one more backbone forward
    of that view (without gradient) per step.

    Training progress: before every training iteration ``MomentumUpdateHook`` (a default
    hook of every config) calls :meth:`set_progress`; an algorithm with schedules (EMA
    factor, warm-ups, frozen parameters) computes them from :attr:`training_progress`, and
    drops the gradients of its frozen parameters in :meth:`cancel_frozen_gradients`. A
    model whose progress was never set (called by hand) stands past every warm-up: see
    each algorithm's docstring.

    Args:
        backbone: the backbone, e.g. ``dict(type='ResNet', depth=50)`` from mmpretrain.
        neck: the projection neck, if any.
        head: the loss head, if any.
        data_preprocessor: defaults to :class:`SelfSupDataPreprocessor`.
        channels_last: keep the conv weights in channels-last memory format, which
            PyTorch's CPU (oneDNN) and GPU convolution kernels run faster on.
        init_cfg: mmengine initialisation config.
        online_probe: the online linear probe, if any: ``dict(in_channels=C,
            num_classes=K)`` (a :class:`LinearProbeHead` unless ``type`` says otherwise)
            or a module; C is the backbone's last output channels.
    """

    def __init__(self,
                 backbone: ModuleCfg,
                 neck: Optional[ModuleCfg] = None,
                 head: Optional[ModuleCfg] = None,
                 data_preprocessor: Optional[ModuleCfg] = None,
                 channels_last: bool = False,
                 init_cfg: Optional[Union[dict, list]] = None,
                 online_probe: Optional[ModuleCfg] = None) -> None:
        if data_preprocessor is None or isinstance(data_preprocessor, dict):
            data_preprocessor = dict(data_preprocessor or {})
            data_preprocessor.setdefault('type', 'SelfSupDataPreprocessor')
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = build_module(backbone)
        self.neck = build_module(neck)
        self.head = build_module(head)
        self.channels_last = channels_last
        if channels_last:
            self.to(memory_format=torch.channels_last)
        self.online_probe: Optional[nn.Module] = None
        self._probe_features: Optional[Tensor] = None
        if online_probe is not None:
            self.attach_online_probe(online_probe)
        self._training_progress: Optional[TrainingProgress] = None

    def set_progress(self, progress: TrainingProgress) -> None:
        """Where training stands: the iteration about to run, its epoch and their totals.

        Called before every training iteration (``MomentumUpdateHook``, or a loop of
        one's own); the schedules read it from :attr:`training_progress`.
        """
        self._training_progress = TrainingProgress(*progress)

    @property
    def training_progress(self) -> Optional[TrainingProgress]:
        """The progress last set, or ``None`` if it never was (a model called by hand)."""
        return self._training_progress

    def cancel_frozen_gradients(self) -> None:
        """Drop the gradients of the parameters frozen at the current progress.

        Called between backward and the optimizer step (an optimizer step pre-hook of
        ``MomentumUpdateHook``), so the step leaves those parameters as they are (no
        update, weight decay or momentum). Here: nothing is frozen.
        """

    def forward(self,
                inputs: Union[Tensor, list[Tensor]],
                data_samples: Optional[list[DataSample]] = None,
                mode: str = 'tensor') -> Any:
        if mode == 'loss':
            self._probe_features = None
            losses = self.loss(inputs, data_samples)
            if self.online_probe is not None:
                losses.update(self._online_probe_loss(inputs, data_samples))
            return losses
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.extract_feat(self._single_view(inputs))
        raise ValueError(f"unknown forward mode {mode!r}; use 'loss', 'predict' or 'tensor'")

    def extract_feat(self, inputs: Tensor) -> tuple[Tensor, ...]:
        """The backbone's outputs for a batch (N, C, H, W)."""
        return self.backbone(inputs)

    def project(self, x: Tensor) -> Tensor:
        """(N, D) the projection of a batch (N, C, H, W): ``neck(backbone(x))``."""
        return self._project(self.backbone, self.neck, x)

    @staticmethod
    def _project(backbone: nn.Module, neck: Optional[nn.Module], x: Tensor) -> Tensor:
        feats = backbone(x)
        return neck(feats)[0] if neck is not None else pool_features(feats[-1])

    @torch.no_grad()
    def predict(self, inputs: Union[Tensor, list[Tensor]],
                data_samples: Optional[list[DataSample]] = None) -> list[DataSample]:
        """Data samples with ``feat`` (C,), the pooled last backbone output of each image."""
        feats = pool_features(self.extract_feat(self._single_view(inputs))[-1])
        if data_samples is None:
            data_samples = [DataSample() for _ in range(feats.shape[0])]
        for sample, feat in zip(data_samples, feats):
            sample.set_field(feat, 'feat', field_type='data')
        if self.online_probe is not None:
            for sample, score in zip(data_samples, self.online_probe.predict(feats)):
                sample.set_pred_score(score).set_pred_label(score.argmax())
        return data_samples

    def compile_backbones(self, **options) -> list[str]:
        """``torch.compile`` every backbone (online and momentum/teacher) in place.

        ``nn.Module.compile`` keeps the parameters and state-dict keys as they are, so
        checkpoints do not change. Call it once the model is complete (the
        ``CompileBackbonesHook`` does, before training): a copy made afterwards would
        still run the original's compiled forward. ``options`` go to ``torch.compile``.
        Returns the names of the compiled modules.
        """
        names = [name for name, module in self.named_children()
                 if name.endswith('backbone') and module is not None]
        for name in names:
            getattr(self, name).compile(**options)
        return names

    def attach_online_probe(self, probe: ModuleCfg) -> None:
        """Add the online linear probe (see the class docstring and ``online_probe``).

        The constructor calls it; so does a subclass whose parent's constructor does not
        forward ``online_probe``.
        """
        if isinstance(probe, dict):
            probe = dict(probe)
            probe.setdefault('type', 'LinearProbeHead')
        self.online_probe = build_module(probe)

    @property
    def has_online_probe(self) -> bool:
        """Whether predictions carry the online probe's ``pred_score``/``pred_label``."""
        return self.online_probe is not None

    def set_probe_features(self, feat: Tensor) -> None:
        """Hand the online probe the backbone output of the first view, from :meth:`loss`.

        feat: the last backbone output for the first view's batch, (N, C, H, W),
        (N, L, C) or (N, C); it is pooled and detached. Without a probe, a no-op. An
        algorithm that does not call it costs the probe one more backbone forward.
        """
        if self.online_probe is not None:
            self._probe_features = pool_features(feat).detach()

    def _online_probe_loss(self, inputs: Union[Tensor, Sequence[Tensor]],
                           data_samples: Optional[list[DataSample]]) -> dict[str, Tensor]:
        feats, self._probe_features = self._probe_features, None
        if not data_samples or any('gt_label' not in sample for sample in data_samples):
            raise ValueError(
                'online_probe needs a gt_label in every data sample: use a labelled '
                'training dataset (PackInputs packs its gt_label) or drop online_probe')
        if feats is None:  # not handed over by loss(): one more forward of the first view
            first_view = inputs if isinstance(inputs, Tensor) else inputs[0]
            with torch.no_grad():  # in the current mode: BN layers see that view again
                feats = pool_features(self.extract_feat(first_view)[-1])
        labels = torch.cat([sample.gt_label for sample in data_samples]).to(feats.device)
        return self.online_probe.loss(feats, labels)

    @abstractmethod
    def loss(self, inputs: list[Tensor],
             data_samples: Optional[list[DataSample]] = None) -> dict[str, Tensor]:
        """The training losses for a batch of views: a dict of scalar tensors."""

    @staticmethod
    def split_views(inputs: Union[Tensor, Sequence[Tensor]], num_views: int) -> list[Tensor]:
        """The ``num_views`` view batches (N, C, H, W) of ``inputs``, in pipeline order.

        Raises:
            ValueError: if ``inputs`` does not hold exactly ``num_views`` views.
        """
        views = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        if len(views) != num_views:
            raise ValueError(
                f'this algorithm needs {num_views} views per image, got {len(views)}; '
                f"check the dataset pipeline's MultiView num_views")
        return views

    @classmethod
    def _single_view(cls, inputs: Union[Tensor, Sequence[Tensor]]) -> Tensor:
        return cls.split_views(inputs, 1)[0]
