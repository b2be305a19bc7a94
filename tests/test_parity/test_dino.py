"""Parity of DINO with the official code (facebookresearch/dino, ``main_dino.py``) and with
lightly's ``DINOLoss``.

mmssl trains through a real mmengine ``Runner`` with the hook its DINO configs get by
default (``MomentumUpdateHook``: the training progress, from which the model warms its
teacher temperature up and freezes its last layer over ``freeze_last_layer_epochs=1``,
and the EMA) and the ViT config's parameter groups; the reference is ``train_one_epoch``
of the official code written out below in plain torch: ``MultiCropWrapper``,
``DINOHead``, ``DINOLoss`` (the centre and the teacher temperature schedule), the teacher EMA with
``momentum_schedule[it]``, ``cancel_gradients_last_layer`` and ``get_params_groups``. The
backbones are the same mmpretrain modules with copied weights (the teacher's built with no
stochastic depth, as the official teacher is). 3 epochs of 2 iterations: the teacher
temperature takes its 3 warm-up values, the last layer is frozen for the 2 iterations
of epoch 0, and the teacher moves with a cosine m from 0.9. Compared: each step's loss
and gradients, and after each step the student, teacher, BN statistics and centre.
"""
import copy
import uuid
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.hooks import Hook
from mmengine.runner import Runner
from torch import Tensor, nn
from torch.utils.data import DataLoader

from mmssl.models.utils import TrainingProgress
from mmssl.registry import MODELS
from tests._two_view import PLAIN_PREPROCESSOR, tiny_resnet
from tests.test_parity._parity import (StepRecord, assert_same, assert_same_record, map_key,
                                       map_state_dict)


BATCH, OUT, NUM_LOCAL = 4, 32, 2
EPOCHS, ITERS_PER_EPOCH = 3, 2
BASE_MOMENTUM, WARMUP_TEMP, TEACHER_TEMP, STUDENT_TEMP = 0.9, 0.04, 0.07, 0.1
CENTER_MOMENTUM, FREEZE_LAST_LAYER_EPOCHS = 0.9, 1
# SGD with momentum (main_dino.py's 'sgd' optimizer), not AdamW: a few gradients are zero
# up to rounding (a key bias does not change the attention softmax), and AdamW's
# normalised step turns that noise into lr-sized weight changes (5e-3 after 6 steps).
LR, SGD_MOMENTUM, WEIGHT_DECAY = 0.01, 0.9, 0.04

# Reference (official) names -> mmssl names.
REF_TO_MMSSL = [
    (r'student\.backbone\.', 'backbone.'),
    (r'teacher\.backbone\.', 'momentum_backbone.'),
    (r'student\.head\.last_layer\.parametrizations\.weight\.original0$',
     'neck.last_layer.norm'),
    (r'student\.head\.last_layer\.parametrizations\.weight\.original1$',
     'neck.last_layer.weight'),
    (r'teacher\.head\.last_layer\.parametrizations\.weight\.original0$',
     'momentum_neck.last_layer.norm'),
    (r'teacher\.head\.last_layer\.parametrizations\.weight\.original1$',
     'momentum_neck.last_layer.weight'),
    (r'student\.head\.', 'neck.'),
    (r'teacher\.head\.', 'momentum_neck.'),
    (r'loss\.(lightly\.)?center$', 'head.center'),
]
NOT_IN_REFERENCE = [r'data_preprocessor\.']


def tiny_vit(drop_path_rate: float) -> dict:
    """A 2-block ViT for 16-px views in 4-px patches (8-px local views: 4 patches)."""
    arch = dict(embed_dims=16, num_layers=2, num_heads=2, feedforward_channels=32)
    return dict(type='VisionTransformer', arch=arch, img_size=16, patch_size=4,
                out_type='cls_token', drop_path_rate=drop_path_rate)


# (student backbone, teacher backbone of the official code, C, the head's BN)
BACKBONES = {
    # the ViT recipe: stochastic depth in the student only, no BN in the head
    'vit': (tiny_vit(0.1), tiny_vit(0.0), 16, False),
    # the ResNet recipe: BN in the backbone and in the head (use_bn_in_head)
    'resnet': (tiny_resnet(), tiny_resnet(), 64, True),
}


# ---- the official code, written out (main_dino.py, vision_transformer.py, utils.py) ----

def cosine_scheduler(base_value: float, final_value: float, epochs: int,
                     niter_per_ep: int) -> np.ndarray:
    """utils.cosine_scheduler without warm-up: one value per iteration."""
    iters = np.arange(epochs * niter_per_ep)
    return final_value + 0.5 * (base_value - final_value) * (
        1 + np.cos(np.pi * iters / len(iters)))


def teacher_temp_schedule(warmup_teacher_temp: float, teacher_temp: float,
                          warmup_teacher_temp_epochs: int, nepochs: int) -> np.ndarray:
    """DINOLoss.teacher_temp_schedule: one value per epoch."""
    return np.concatenate((
        np.linspace(warmup_teacher_temp, teacher_temp, warmup_teacher_temp_epochs),
        np.ones(nepochs - warmup_teacher_temp_epochs) * teacher_temp))


class OfficialDINOHead(nn.Module):
    """vision_transformer.DINOHead: MLP, L2 normalisation, weight-normalised last layer
    whose norms g are fixed at 1 (``norm_last_layer``)."""

    def __init__(self, in_dim: int, out_dim: int, use_bn: bool, hidden_dim: int,
                 bottleneck_dim: int, nlayers: int = 3) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Linear(in_dim, hidden_dim)]
        if use_bn:
            layers.append(nn.BatchNorm1d(hidden_dim))
        layers.append(nn.GELU())
        for _ in range(nlayers - 2):
            layers.append(nn.Linear(hidden_dim, hidden_dim))
            if use_bn:
                layers.append(nn.BatchNorm1d(hidden_dim))
            layers.append(nn.GELU())
        layers.append(nn.Linear(hidden_dim, bottleneck_dim))
        self.mlp = nn.Sequential(*layers)
        self.last_layer = nn.utils.parametrizations.weight_norm(
            nn.Linear(bottleneck_dim, out_dim, bias=False))
        weight_g = self.last_layer.parametrizations.weight.original0
        weight_g.data.fill_(1)
        weight_g.requires_grad = False

    def forward(self, x: Tensor) -> Tensor:
        """(M, in_dim) -> (M, out_dim)."""
        x = nn.functional.normalize(self.mlp(x), dim=-1, p=2)
        return self.last_layer(x)


class MultiCropWrapper(nn.Module):
    """utils.MultiCropWrapper: the backbone once per run of same-resolution crops, the
    head on all outputs. The backbone's output is its last feature: the class token of a
    ViT, or the last map average-pooled (torchvision's ResNet with ``fc = Identity``)."""

    def __init__(self, backbone: nn.Module, head: nn.Module) -> None:
        super().__init__()
        self.backbone, self.head = backbone, head

    def forward(self, x: Sequence[Tensor]) -> Tensor:
        """V crops (N, C, H_v, W_v) -> (V * N, out_dim), crop by crop."""
        idx_crops = torch.cumsum(torch.unique_consecutive(
            torch.tensor([inp.shape[-1] for inp in x]), return_counts=True)[1], 0)
        start_idx, output = 0, torch.empty(0)
        for end_idx in idx_crops:
            out = self.backbone(torch.cat(x[start_idx:end_idx]))[-1]
            if out.ndim == 4:
                out = F.adaptive_avg_pool2d(out, 1).flatten(1)
            output = torch.cat((output, out))
            start_idx = end_idx
        return self.head(output)


class OfficialDINOLoss(nn.Module):
    """main_dino.DINOLoss (on one process: the all-reduce of the centre is the identity)."""

    def __init__(self, out_dim: int, ncrops: int, warmup_teacher_temp: float,
                 teacher_temp: float, warmup_teacher_temp_epochs: int, nepochs: int,
                 student_temp: float = 0.1, center_momentum: float = 0.9) -> None:
        super().__init__()
        self.student_temp = student_temp
        self.center_momentum = center_momentum
        self.ncrops = ncrops
        self.register_buffer('center', torch.zeros(1, out_dim))
        self.teacher_temp_schedule = teacher_temp_schedule(
            warmup_teacher_temp, teacher_temp, warmup_teacher_temp_epochs, nepochs)

    def forward(self, student_output: Tensor, teacher_output: Tensor, epoch: int) -> Tensor:
        """student_output: (ncrops * N, K); teacher_output: (2 * N, K)."""
        student_out = (student_output / self.student_temp).chunk(self.ncrops)
        temp = self.teacher_temp_schedule[epoch]
        teacher_out = F.softmax((teacher_output - self.center) / temp, dim=-1)
        teacher_out = teacher_out.detach().chunk(2)
        total_loss, n_loss_terms = 0, 0
        for iq, q in enumerate(teacher_out):
            for v in range(len(student_out)):
                if v == iq:
                    continue
                loss = torch.sum(-q * F.log_softmax(student_out[v], dim=-1), dim=-1)
                total_loss += loss.mean()
                n_loss_terms += 1
        total_loss /= n_loss_terms
        self.update_center(teacher_output)
        return total_loss

    @torch.no_grad()
    def update_center(self, teacher_output: Tensor) -> None:
        batch_center = torch.sum(teacher_output, dim=0, keepdim=True) / len(teacher_output)
        self.center = self.center * self.center_momentum + batch_center * (
            1 - self.center_momentum)


class LightlyDINOLoss(nn.Module):
    """lightly's ``DINOLoss`` behind :class:`OfficialDINOLoss`'s call; its centre is
    (1, 1, K)."""

    def __init__(self, out_dim: int, ncrops: int, warmup_teacher_temp: float,
                 teacher_temp: float, warmup_teacher_temp_epochs: int, nepochs: int,
                 student_temp: float = 0.1, center_momentum: float = 0.9) -> None:
        super().__init__()
        from lightly.loss import DINOLoss  # a test-only dependency (lightly 1.6, no deps)
        self.ncrops = ncrops
        self.lightly = DINOLoss(out_dim, warmup_teacher_temp, teacher_temp,
                                warmup_teacher_temp_epochs, student_temp, center_momentum)

    def forward(self, student_output: Tensor, teacher_output: Tensor, epoch: int) -> Tensor:
        return self.lightly(list(teacher_output.chunk(2)),
                            list(student_output.chunk(self.ncrops)), epoch=epoch)


def get_params_groups(model: nn.Module) -> list[dict]:
    """utils.get_params_groups: no weight decay on biases and 1-D parameters."""
    regularized, not_regularized = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if name.endswith('.bias') or len(param.shape) == 1:
            not_regularized.append(param)
        else:
            regularized.append(param)
    return [{'params': regularized}, {'params': not_regularized, 'weight_decay': 0.}]


def cancel_gradients_last_layer(epoch: int, model: nn.Module, freeze_last_layer: int) -> None:
    """utils.cancel_gradients_last_layer."""
    if epoch >= freeze_last_layer:
        return
    for n, p in model.named_parameters():
        if 'last_layer' in n:
            p.grad = None


class OfficialDINO(nn.Module):
    """The student, the teacher and the loss (with the centre) of main_dino.py."""

    def __init__(self, student: nn.Module, teacher: nn.Module, loss: nn.Module) -> None:
        super().__init__()
        self.student, self.teacher, self.loss = student, teacher, loss
        for p in self.teacher.parameters():
            p.requires_grad = False


@dataclass
class TrainingState:
    """mmssl's model state (state-dict names) and SGD momentum buffers (parameter names)."""
    weights: dict[str, Tensor]
    momentum_buffers: dict[str, Tensor]


def load_weights(dino: OfficialDINO, weights: dict[str, Tensor]) -> None:
    """Load mmssl's state dict ``weights`` into the reference (names by REF_TO_MMSSL)."""
    dino.load_state_dict({key: weights[map_key(key, REF_TO_MMSSL)].reshape(value.shape)
                          for key, value in dino.state_dict().items()})


def load_training_state(dino: OfficialDINO, optimizer: torch.optim.Optimizer,
                        state: TrainingState) -> None:
    """Start the reference's next step from mmssl's ``state``."""
    load_weights(dino, state.weights)
    for name, param in dino.student.named_parameters():
        buffer = state.momentum_buffers.get(map_key(f'student.{name}', REF_TO_MMSSL))
        optimizer.state.pop(param, None)
        if buffer is not None:
            optimizer.state[param]['momentum_buffer'] = buffer.clone()


def train_official(dino: OfficialDINO, epochs: Sequence[Sequence[list[Tensor]]],
                   momentum_schedule: np.ndarray,
                   start_states: Optional[Sequence[TrainingState]] = None
                   ) -> tuple[StepRecord, list[dict[str, Tensor]]]:
    """main_dino.train_one_epoch over ``epochs`` (per epoch, the crops of each
    iteration), at a constant lr and weight decay; seeds torch with the global iteration
    before each step, as the mmssl run does (the student's stochastic depth draws).

    start_states: per step, mmssl's state to start it from (each step compared from
        identical states); None: one trajectory from the weights ``dino`` holds.

    Returns the steps' losses and gradients, and the state after each step.
    """
    student, teacher, dino_loss = dino.student, dino.teacher, dino.loss
    optimizer = torch.optim.SGD(get_params_groups(student), lr=LR, momentum=SGD_MOMENTUM,
                                weight_decay=WEIGHT_DECAY)
    record, states = StepRecord(), []
    for epoch, batches in enumerate(epochs):
        for i, images in enumerate(batches):
            it = len(batches) * epoch + i  # global training iteration
            if start_states is not None:
                load_training_state(dino, optimizer, start_states[it])
            torch.manual_seed(it)
            teacher_output = teacher(images[:2])  # only the 2 global views pass the teacher
            student_output = student(images)
            loss = dino_loss(student_output, teacher_output, epoch)
            optimizer.zero_grad()
            loss.backward()
            record.losses.append(loss.detach().clone())
            record.grads.append({f'student.{name}': p.grad.detach().clone()
                                 for name, p in student.named_parameters()
                                 if p.grad is not None})
            cancel_gradients_last_layer(epoch, student, FREEZE_LAST_LAYER_EPOCHS)
            optimizer.step()
            with torch.no_grad():  # EMA update for the teacher
                m = momentum_schedule[it]
                for param_q, param_k in zip(student.parameters(), teacher.parameters()):
                    param_k.data.mul_(m).add_((1 - m) * param_q.detach().data)
            states.append(copy.deepcopy(dino.state_dict()))
    return record, states


# ---- mmssl, trained by a Runner ----

class StepRecorder(Hook):
    """Records a run for the comparison: the state before each step and at the end;
    each step's loss, teacher temperature, gradients
    (before ``MomentumUpdateHook`` cancels any) and last-layer weight after the step.
    Seeds torch with ``runner.iter`` before each step (the student's stochastic depth
    draws, repeated by the reference)."""

    priority = 'HIGHEST'  # its optimizer pre-hook runs before MomentumUpdateHook's

    def __init__(self) -> None:
        self.states: list[TrainingState] = []
        self.record = StepRecord()
        self.teacher_temperatures: list[float] = []
        self.last_layers: list[Tensor] = []

    def before_train(self, runner) -> None:
        model = runner.model

        def record_grads(optimizer, args, kwargs) -> None:
            self.record.grads.append({name: p.grad.detach().clone()
                                      for name, p in model.named_parameters()
                                      if p.grad is not None})
        runner.optim_wrapper.optimizer.register_step_pre_hook(record_grads)

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._record_state(runner)
        torch.manual_seed(runner.iter)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self.record.losses.append(outputs['loss'].detach().clone())
        self.teacher_temperatures.append(outputs['teacher_temperature'].item())
        self.last_layers.append(runner.model.neck.last_layer.weight.detach().clone())

    def after_train(self, runner) -> None:
        self._record_state(runner)

    def _record_state(self, runner) -> None:
        optimizer_state = runner.optim_wrapper.optimizer.state
        self.states.append(TrainingState(
            copy.deepcopy(runner.model.state_dict()),
            {name: optimizer_state[p]['momentum_buffer'].clone()
             for name, p in runner.model.named_parameters()
             if optimizer_state.get(p, {}).get('momentum_buffer') is not None}))


def spy(obj: object, name: str, calls: list) -> None:
    """Record the arguments of every call of ``obj.name`` (which still runs)."""
    method = getattr(obj, name)

    def recorded(*args):
        calls.append(args)
        return method(*args)
    setattr(obj, name, recorded)


def build_mmssl_dino(backbone: str, warmup_epochs: int = EPOCHS) -> nn.Module:
    student_backbone, _, channels, use_bn = BACKBONES[backbone]
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='DINO', num_crops=(2, NUM_LOCAL), ema_momentum=BASE_MOMENTUM,
        freeze_last_layer_epochs=FREEZE_LAST_LAYER_EPOCHS,
        teacher_temperature=TEACHER_TEMP, warmup_teacher_temperature=WARMUP_TEMP,
        warmup_teacher_temperature_epochs=warmup_epochs, backbone=student_backbone,
        neck=dict(type='DINONeck', in_channels=channels, hidden_channels=32,
                  bottleneck_channels=8, out_channels=OUT, num_layers=3,
                  norm_cfg=dict(type='BN1d') if use_bn else None),
        head=dict(type='DINOHead', out_channels=OUT, student_temperature=STUDENT_TEMP,
                  center_momentum=CENTER_MOMENTUM),
        data_preprocessor=PLAIN_PREPROCESSOR))
    model.init_weights()
    # The paper's std 0.02 at these tiny widths leaves the bottleneck output a norm of
    # ~5e-4, whose L2 normalisation scales the gradients up to ~3e3 (fp32 rounding alone
    # ~1e-4 there): fan-in initialisation keeps them near 1, as 2048 wide layers do.
    for layer in model.neck.mlp:
        if isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, std=layer.in_features ** -0.5)
    model.momentum_neck.load_state_dict(model.neck.state_dict())
    return model


def crops(seed: int) -> list[Tensor]:
    """2 global 16-px and NUM_LOCAL local 8-px crops of BATCH images."""
    gen = torch.Generator().manual_seed(seed)
    return ([torch.randn(BATCH, 3, 16, 16, generator=gen) for _ in range(2)]
            + [torch.randn(BATCH, 3, 8, 8, generator=gen) for _ in range(NUM_LOCAL)])


def train_mmssl(model: nn.Module, batches: list[list[Tensor]], work_dir: str) -> StepRecorder:
    """EPOCHS epochs over ``batches`` by a Runner with DINO's hooks and optimizer."""
    loader = DataLoader([dict(inputs=views, data_samples=None) for views in batches],
                        batch_size=1, collate_fn=lambda items: items[0])  # batches as they are
    recorder = StepRecorder()
    runner = Runner(
        model=model, work_dir=work_dir, train_dataloader=loader,
        train_cfg=dict(by_epoch=True, max_epochs=EPOCHS),
        # the DINO config's parameter groups: no decay on norms, biases, 1-D parameters
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=LR, momentum=SGD_MOMENTUM,
                                          weight_decay=WEIGHT_DECAY),
                           paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0,
                                              flat_decay_mult=0.0)),
        # No config here, hence no default_hooks.momentum_update: the hook given by hand.
        custom_hooks=[dict(type='MomentumUpdateHook'), recorder],
        default_hooks=dict(checkpoint=None, logger=None),
        default_scope='mmssl', log_level='WARNING',
        experiment_name=f'parity-dino-{uuid.uuid4().hex[:12]}')  # one visualizer per run
    runner.train()
    return recorder


def build_official(initial: dict[str, Tensor], backbone: str, loss_cls: type) -> OfficialDINO:
    """The official student/teacher/loss with mmssl's ``initial`` state dict."""
    student_backbone, teacher_backbone, channels, use_bn = BACKBONES[backbone]
    heads = [OfficialDINOHead(channels, OUT, use_bn, hidden_dim=32, bottleneck_dim=8)
             for _ in range(2)]
    dino = OfficialDINO(
        MultiCropWrapper(MODELS.build(student_backbone), heads[0]),
        MultiCropWrapper(MODELS.build(teacher_backbone), heads[1]),
        loss_cls(OUT, 2 + NUM_LOCAL, WARMUP_TEMP, TEACHER_TEMP, EPOCHS, EPOCHS,
                 STUDENT_TEMP, CENTER_MOMENTUM))
    load_weights(dino, initial)
    return dino.train()


# ResNet: BN over these tiny batches amplifies fp32 rounding (4e-6 on the first step's
# gradients) to 2e-4 after 6 steps, so each of its steps starts from mmssl's state; the
# ViT runs compare one whole trajectory.
@pytest.mark.parametrize('backbone,loss_cls,per_step', [('vit', OfficialDINOLoss, False),
                                                        ('resnet', OfficialDINOLoss, True),
                                                        ('vit', LightlyDINOLoss, False)],
                         ids=['vit-official', 'resnet-official-per-step', 'vit-lightly'])
def test_training_matches_the_official_code(backbone, loss_cls, per_step, tmp_path):
    batches = [crops(seed) for seed in range(ITERS_PER_EPOCH)]
    model = build_mmssl_dino(backbone)
    progress_calls, ema_calls = [], []
    spy(model, 'set_progress', progress_calls)
    spy(model, 'ema_update', ema_calls)
    recorder = train_mmssl(model, batches, str(tmp_path))

    # The schedules' indices: MomentumUpdateHook hands over each iteration's 0-based index
    # and epoch before it and runs the EMA after it at that index, the official code
    # momentum_schedule[it] with it = the same index (no offset); both cosines run over
    # max_iters = epochs * iterations per epoch.
    max_iters = EPOCHS * ITERS_PER_EPOCH
    momentum_schedule = cosine_scheduler(BASE_MOMENTUM, 1, EPOCHS, ITERS_PER_EPOCH)
    assert progress_calls == [(TrainingProgress(it, max_iters, it // ITERS_PER_EPOCH, EPOCHS),)
                              for it in range(max_iters)]
    assert len(ema_calls) == max_iters
    assert [model.ema_momentum_at(it, max_iters) for it in range(max_iters)] == pytest.approx(
        momentum_schedule.tolist(), abs=1e-12)
    # tau_t by epoch: the progress' epoch is the official schedule's index.
    temps = teacher_temp_schedule(WARMUP_TEMP, TEACHER_TEMP, EPOCHS, EPOCHS)
    assert temps.tolist() == pytest.approx([0.04, 0.055, 0.07])
    assert recorder.teacher_temperatures == pytest.approx(
        np.repeat(temps, ITERS_PER_EPOCH).tolist(), abs=1e-7)
    # The last layer stays put over epoch 0's 2 iterations, then moves.
    initial_last = recorder.states[0].weights['neck.last_layer.weight']
    assert [torch.equal(w, initial_last) for w in recorder.last_layers] == [
        True] * ITERS_PER_EPOCH + [False] * (max_iters - ITERS_PER_EPOCH)

    reference = build_official(recorder.states[0].weights, backbone, loss_cls)
    expected, states = train_official(reference, [batches] * EPOCHS, momentum_schedule,
                                      recorder.states[:-1] if per_step else None)
    assert_same_record(recorder.record, expected, REF_TO_MMSSL)
    # After every step: student and teacher weights, BN statistics, the centre.
    for state, mmssl_state in zip(states, recorder.states[1:]):
        weights = mmssl_state.weights
        mapped = {key: value.reshape(weights[key].shape) for key, value in map_state_dict(
            state, weights.keys(), REF_TO_MMSSL, ignore=NOT_IN_REFERENCE).items()}
        center = mapped.pop('head.center')
        assert_same({key: weights[key] for key in mapped}, mapped, 'weights')
        assert_same(weights['head.center'], center, 'state')
    assert model.head.center.abs().sum() > 0


@pytest.mark.parametrize('warmup_epochs', [0, 1, 2, 30])
def test_teacher_temperature_schedule_is_the_official_one(warmup_epochs):
    model = build_mmssl_dino('vit', warmup_epochs)
    official = teacher_temp_schedule(WARMUP_TEMP, TEACHER_TEMP, warmup_epochs, 40)
    assert [model.teacher_temperature_at(epoch) for epoch in range(40)] == pytest.approx(
        official.tolist(), abs=1e-12)


def test_teacher_momentum_schedule_is_the_official_one():
    """Iteration ``it`` (0-based, as MomentumUpdateHook passes it) of 5 epochs x 7."""
    model = build_mmssl_dino('vit')
    official = cosine_scheduler(BASE_MOMENTUM, 1, 5, 7)
    assert [model.ema_momentum_at(it, 35) for it in range(35)] == pytest.approx(
        official.tolist(), abs=1e-12)
