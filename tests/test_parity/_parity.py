"""Parity with a reference implementation: map weights, run the same steps, compare.

The pattern of every parity test: build mmssl's model and the reference from the same
settings, :func:`copy_weights` from one to the other through a list of key rules (written
once per pair, here or in the test), run :func:`train_steps` on both with the same batches
and an optimizer of the same kind, and compare the per-step losses and gradients, the
final weights and the final state with :func:`assert_same`. Every comparison's largest
difference is recorded; with ``MMSSL_PARITY_REPORT=FILE`` the session writes them to FILE
as JSON (the figures of ``docs/parity.md``).
"""
import copy
import itertools
import json
import os
import re
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Optional, Sequence

import torch
from torch import Tensor, nn

from tests._helpers import ema_step

# (pattern, replacement) pairs: a source key is renamed by ``re.sub`` of the first pattern
# that matches it with ``re.match``; a key no pattern matches keeps its name.
KeyRules = Sequence[tuple[str, str]]
TOLERANCE = 1e-5

# test id -> what -> largest absolute difference seen (filled by assert_same).
MAX_DIFFERENCES: dict[str, dict[str, float]] = defaultdict(dict)


def map_key(key: str, rules: KeyRules) -> str:
    """``key`` renamed by the first rule whose pattern matches it (unchanged if none)."""
    for pattern, replacement in rules:
        if re.match(pattern, key):
            return re.sub(pattern, replacement, key, count=1)
    return key


def map_state_dict(source: dict[str, Tensor], target_keys: Iterable[str], rules: KeyRules,
                   ignore: Sequence[str] = ()) -> dict[str, Tensor]:
    """``source`` renamed by ``rules`` onto exactly ``target_keys``.

    ignore: patterns (``re.match``) of source or target keys that have no counterpart
        (a reference's EMA step counter, say).

    Raises:
        KeyError: naming the first source key whose mapped name is not a target key, or
            the first target key that no source key maps to.
    """
    skip = lambda key: any(re.match(pattern, key) for pattern in ignore)  # noqa: E731
    target_keys = [key for key in target_keys if not skip(key)]
    wanted = set(target_keys)
    mapped = {}
    for key, value in source.items():
        if skip(key):
            continue
        name = map_key(key, rules)
        if name not in wanted:
            raise KeyError(f'unmapped key {key!r}: the rules map it to {name!r}, which is '
                           f'not a key of the other model')
        mapped[name] = value
    missing = [key for key in target_keys if key not in mapped]
    if missing:
        raise KeyError(f'unmapped key {missing[0]!r}: no key of the source model maps to '
                       f'it ({len(missing)} such keys)')
    return mapped


def copy_weights(source: nn.Module, target: nn.Module, rules: KeyRules,
                 ignore: Sequence[str] = ()) -> None:
    """Load ``source``'s state (parameters and buffers) into ``target`` through ``rules``.

    Raises:
        KeyError: as :func:`map_state_dict`, naming the first unmapped key.
        ValueError: naming a key whose shapes differ.
    """
    target_state = target.state_dict()
    mapped = map_state_dict(source.state_dict(), target_state.keys(), rules, ignore)
    for key, value in mapped.items():
        if value.shape != target_state[key].shape:
            raise ValueError(f'{key!r}: shape {tuple(value.shape)} in the source, '
                             f'{tuple(target_state[key].shape)} in the target')
    target.load_state_dict(mapped, strict=False)


@dataclass
class StepRecord:
    """What :func:`train_steps` saw: per step, the loss and each parameter's gradient."""
    losses: list[Tensor] = field(default_factory=list)
    grads: list[dict[str, Tensor]] = field(default_factory=list)


def train_steps(model: nn.Module, batches: Sequence, loss_fn: Callable[[nn.Module, object],
                Tensor], optimizer: torch.optim.Optimizer,
                after_step: Optional[Callable[[int], None]] = None) -> StepRecord:
    """One optimizer step per batch: ``loss_fn(model, batch)``, backward, step.

    after_step: called with the step's index after ``optimizer.step()`` (mmssl's momentum
        update, as its hook does after each iteration).
    """
    record = StepRecord()
    for step, batch in enumerate(batches):
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model, batch)
        loss.backward()
        record.losses.append(loss.detach().clone())
        record.grads.append({name: param.grad.detach().clone()
                             for name, param in model.named_parameters()
                             if param.grad is not None})
        optimizer.step()
        if after_step is not None:
            after_step(step)
    return record


def _test_id() -> str:
    return os.environ.get('PYTEST_CURRENT_TEST', 'unknown').split(' ')[0]


def assert_same(actual, expected, what: str, atol: float = TOLERANCE) -> float:
    """Assert two tensors, or two dicts/lists of tensors with the same keys, equal to
    ``atol``; record and return the largest absolute difference under ``what``."""
    if isinstance(expected, Tensor):
        actual, expected = {'': actual}, {'': expected}
    elif isinstance(expected, (list, tuple)):
        actual, expected = dict(enumerate(actual)), dict(enumerate(expected))
    if set(actual) != set(expected):
        only_a = sorted(map(str, set(actual) - set(expected)))[:3]
        only_e = sorted(map(str, set(expected) - set(actual)))[:3]
        raise AssertionError(f'{what}: keys differ (only in mmssl: {only_a}, only in the '
                             f'reference: {only_e})')
    worst, worst_key = 0.0, None
    for key, value in expected.items():
        other = actual[key]
        if other.shape != value.shape:
            raise AssertionError(f'{what}[{key}]: shape {tuple(other.shape)} vs '
                                 f'{tuple(value.shape)}')
        diff = (other.double() - value.double()).abs().max().item() if value.numel() else 0.0
        if diff >= worst:
            worst, worst_key = diff, key
    previous = MAX_DIFFERENCES[_test_id()].get(what, 0.0)
    MAX_DIFFERENCES[_test_id()][what] = max(previous, worst)
    assert worst <= atol, f'{what}[{worst_key}]: largest difference {worst:.3g} > {atol}'
    return worst


def assert_same_record(actual: StepRecord, expected: StepRecord, rules: KeyRules = (),
                       atol: float = TOLERANCE) -> None:
    """Per-step losses and gradients equal; ``expected``'s gradient names are mapped by
    ``rules`` onto ``actual``'s (reference -> mmssl)."""
    assert len(actual.losses) == len(expected.losses)
    for step, (loss_a, loss_e) in enumerate(zip(actual.losses, expected.losses)):
        assert_same(loss_a, loss_e, 'loss', atol)
        grads_e = {map_key(key, rules): g for key, g in expected.grads[step].items()}
        assert_same(actual.grads[step], grads_e, 'gradient', atol)


def assert_same_state(actual: nn.Module, expected: nn.Module, rules: KeyRules,
                      what: str = 'weights', ignore: Sequence[str] = (),
                      atol: float = TOLERANCE) -> None:
    """Every tensor of ``expected``'s state dict, renamed by ``rules`` (reference ->
    mmssl), equal to ``actual``'s."""
    mapped = map_state_dict(expected.state_dict(), actual.state_dict().keys(), rules, ignore)
    state = {key: value for key, value in actual.state_dict().items() if key in mapped}
    assert_same(state, mapped, what, atol)


def write_report(path: str) -> None:
    """The recorded largest differences as JSON: {test id: {what: difference}}."""
    with open(path, 'w') as f:
        json.dump({test: dict(sorted(diffs.items()))
                   for test, diffs in sorted(MAX_DIFFERENCES.items())}, f, indent=1)
        f.write('\n')


# ---- Two-view algorithms against mmpretrain (MoCo v2, SimCLR, BYOL, SimSiam, Barlow
# Twins, MoCo v3). Rules map mmpretrain's keys onto mmssl's; online parts (backbone,
# neck, head.predictor) have the same names in both.

def ema_rules(reference_ema: str) -> list[tuple[str, str]]:
    """Rules for mmpretrain's EMA copy of ``nn.Sequential(backbone, neck)``, an mmengine
    averaged model held as ``reference_ema``, onto mmssl's ``momentum_backbone`` and
    ``momentum_neck``."""
    return [(rf'{reference_ema}\.module\.0\.', 'momentum_backbone.'),
            (rf'{reference_ema}\.module\.1\.', 'momentum_neck.')]


# mmssl's data preprocessor has an extra state (its settings), mmpretrain's none.
PREPROCESSOR_STATE = (r'data_preprocessor\.', )
# mmpretrain's queue is (D, K) and mmssl's (K, D): the tests copy it with a transpose, so
# neither queue is mapped by rule; ``steps`` is the reference EMA's update counter.
MOCO_RULES = ema_rules('encoder_k')
MOCO_IGNORE = PREPROCESSOR_STATE + (r'encoder_k\.steps$', r'queue$', r'queue_ptr$',
                                    r'dictionary\.queue\.')
BYOL_RULES = ema_rules('target_net')
BYOL_IGNORE = PREPROCESSOR_STATE + (r'target_net\.steps$', )
MOCOV3_RULES = ema_rules('momentum_encoder')
MOCOV3_IGNORE = PREPROCESSOR_STATE + (r'momentum_encoder\.steps$', )
SIMCLR_RULES: KeyRules = ()
SIMCLR_IGNORE = PREPROCESSOR_STATE
SIMSIAM_RULES: KeyRules = ()
SIMSIAM_IGNORE = PREPROCESSOR_STATE
BARLOW_TWINS_RULES: KeyRules = ()
# mmpretrain standardises with a BatchNorm1d(affine=False) whose running statistics are
# never read; mmssl standardises by a pure function.
BARLOW_TWINS_IGNORE = PREPROCESSOR_STATE + (r'head\.bn\.', )
# BN statistics of the target networks, mmssl's and the reference EMA's: they differ on
# purpose (see assert_target_statistics).
TARGET_STATISTICS = (r'(momentum_(backbone|neck)|\w+\.module\.[01])\..*(running_mean|'
                     r'running_var|num_batches_tracked)$', )
# The target networks, mmssl's and the reference EMA's: each model keeps its own when the
# online weights are copied before each step (train_pair's lockstep).
TARGET_NETWORKS = (r'(momentum_(backbone|neck)|\w+\.module\.[01])\.', )
ONLINE_NETWORKS = (r'(backbone|neck|head)\.', )


def assert_same_weights_and_target(model: nn.Module, reference: nn.Module, rules: KeyRules,
                                   ignore: Sequence[str]) -> None:
    """The online networks' state (recorded as 'weights') and the target networks'
    weights ('target') of a momentum algorithm equal; the targets' BN statistics are
    left to :func:`assert_target_statistics`."""
    assert_same_state(model, reference, rules, 'weights', tuple(ignore) + TARGET_NETWORKS)
    assert_same_state(model, reference, rules, 'target',
                      tuple(ignore) + ONLINE_NETWORKS + TARGET_STATISTICS)


def scaled_gradients(record: StepRecord, scales: StepRecord) -> StepRecord:
    """``record`` with each gradient divided by max(1, the largest absolute entry of the
    same-named gradient of ``scales`` at that step); scale both sides by the reference.

    Compared at 1e-5, gradients above 1 are then compared relative to their scale. For a
    loss whose gradients reach O(10) (Barlow Twins' sum over the D x D cross-correlation),
    where float32 rounding alone exceeds 1e-5 absolute.
    """
    return StepRecord(record.losses, [
        {name: grad / max(1.0, scale[name].abs().max().item()) for name, grad in grads.items()}
        for grads, scale in zip(record.grads, scales.grads)])


def build_pair(mmssl_cfg: dict, reference_cfg: dict, rules: KeyRules,
               ignore: Sequence[str] = (), reference_ema: Optional[str] = None,
               seed: int = 0) -> tuple[nn.Module, nn.Module]:
    """(mmssl's model, mmpretrain's) in train mode, each built by its own registry (in its
    own default scope, so a type name both register resolves to the right one) and
    initialised; the reference's state is copied into mmssl's through ``rules``.

    reference_ema: the name of the reference's EMA copy of ``nn.Sequential(backbone,
        neck)``. mmpretrain makes it before initialising the online networks and turns
        it into their copy at its first update; mmssl makes its targets copies in
        ``init_weights``. It is made a copy here, so both start from the same targets.
    """
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS as REFERENCE_MODELS

    from mmssl.registry import MODELS
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('mmssl'):
        model = MODELS.build(copy.deepcopy(mmssl_cfg))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        reference = REFERENCE_MODELS.build(copy.deepcopy(reference_cfg))
    assert type(model).__module__.startswith('mmssl.'), type(model)
    assert type(reference).__module__.startswith('mmpretrain.'), type(reference)
    model.init_weights()
    reference.init_weights()
    if reference_ema is not None:
        online = nn.Sequential(reference.backbone, reference.neck)
        getattr(reference, reference_ema).module.load_state_dict(online.state_dict())
    copy_weights(reference, model, rules, ignore)
    return model.train(), reference.train()


def two_view_batches(steps: int, batch: int, size: int) -> list[list[Tensor]]:
    """``steps`` fixed batches of two random views (batch, 3, size, size) each."""
    gen = torch.Generator().manual_seed(0)
    return [[torch.randn(batch, 3, size, size, generator=gen) for _ in range(2)]
            for _ in range(steps)]


def view_loss(model: nn.Module, views: Sequence[Tensor]) -> Tensor:
    """The scalar loss of ``model.loss`` (mmssl's or mmpretrain's) on a list of views."""
    return model.loss(list(views), None)['loss']


def sgd(model: nn.Module, lr: float) -> torch.optim.Optimizer:
    """SGD with momentum 0.9 and weight decay 1e-4 over the parameters that train."""
    return torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=lr,
                           momentum=0.9, weight_decay=1e-4)


def train_pair(model: nn.Module, reference: nn.Module, batches: Sequence, lr: float,
               after_step: Optional[Callable[[int], None]] = None,
               lockstep: Optional[tuple[KeyRules, Sequence[str]]] = None,
               ) -> tuple[StepRecord, StepRecord]:
    """:func:`train_steps` of both models on ``batches`` by SGD at ``lr``.

    after_step: runs after each of mmssl's steps only, with the step's index (its
        momentum update).
    lockstep: ``(rules, own_state)`` to compare each step from identical states with
        :func:`train_in_lockstep`, where a trajectory amplifies float32 rounding.
    """
    optimizers = sgd(model, lr), sgd(reference, lr)
    if lockstep is None:
        return (train_steps(model, batches, view_loss, optimizers[0], after_step),
                train_steps(reference, batches, view_loss, optimizers[1]))
    hook = None
    if after_step is not None:  # train_in_lockstep runs one step at a time: count them
        step_index = itertools.count()
        hook = lambda _: after_step(next(step_index))  # noqa: E731
    rules, own_state = lockstep
    return train_in_lockstep(model, reference, batches, rules, own_state,
                             (view_loss, view_loss), optimizers, (hook, None))


def momentum_hook(model: nn.Module, max_iters: int, offset: int = 0) -> Callable[[int], None]:
    """What mmssl's MomentumUpdateHook does for the EMA after iteration ``it`` (0-based):
    ``model.ema_update()`` at the progress of iteration ``it + offset`` of ``max_iters``;
    ``offset`` 1 counts the steps as mmpretrain's EMA does (see :func:`reference_momentum`).
    """
    return lambda it: ema_step(model, it + offset, max_iters)


@contextmanager
def reference_max_iters(max_iters: int) -> Iterator[None]:
    """Within: ``max_iters`` in mmengine's current MessageHub, where mmpretrain's CosineEMA
    reads it; the previous value is restored after."""
    from mmengine.logging import MessageHub
    hub = MessageHub.get_current_instance()
    previous = hub.runtime_info.get('max_iters')
    hub.update_info('max_iters', max_iters)
    try:
        yield
    finally:
        if previous is None:
            hub.runtime_info.pop('max_iters', None)
        else:
            hub.update_info('max_iters', previous)


def reference_momentum(ema: nn.Module, steps: int) -> float:
    """The paper's m (``target = m * target + (1 - m) * online``) that mmpretrain's
    averaged model ``ema`` uses for its update number ``steps`` (0 is its initial copy):
    its ``avg_func`` applied to a target 0 and an online 1 gives 1 - m."""
    target = torch.zeros(1, dtype=torch.float64)
    ema.avg_func(target, torch.ones(1, dtype=torch.float64), steps)
    return 1.0 - target.item()


def catch_up_reference_ema(reference: nn.Module, ema_name: str) -> None:
    """The reference's EMA update that mmssl did after the last step.

    mmpretrain updates its target inside ``loss()``, before computing the keys, from the
    online weights of the previous step: after N steps it has averaged the online
    weights of steps 1..N-1, mmssl (updating after each step) those of steps 1..N. The
    update mmpretrain would do at the start of step N+1 closes the gap. It also copies
    the online BN statistics into the target, as each of its updates does.
    """
    getattr(reference, ema_name).update_parameters(
        nn.Sequential(reference.backbone, reference.neck))


def assert_target_statistics(model: nn.Module, reference: nn.Module, ema_name: str,
                             steps: int, forwards_per_step: int) -> None:
    """The intended difference in the targets' BN statistics (their weights are equal).

    mmssl's target networks keep statistics of their own forwards only: each BN has
    counted ``forwards_per_step * steps`` batches. mmpretrain's EMA copies the online
    network's buffers at every update (``update_buffers=False``), then its own forwards
    add to them: after the last in-loss update its counter is the online one's plus the
    target forwards of that step. Call before :func:`catch_up_reference_ema`. Training
    does not read these statistics (BN in train mode normalises by the batch).
    """
    online = nn.Sequential(reference.backbone, reference.neck)
    copied = dict(online.named_buffers())
    targets = dict(getattr(reference, ema_name).module.named_buffers())
    own = dict(nn.Sequential(model.momentum_backbone, model.momentum_neck).named_buffers())
    counters = [key for key in targets if key.endswith('num_batches_tracked')]
    assert counters
    for key in counters:
        assert int(own[key]) == forwards_per_step * steps, key
        assert int(targets[key]) == int(copied[key]) + forwards_per_step, key


def assert_momentum_counter_offset(model: nn.Module, ema: nn.Module, max_iters: int) -> None:
    """The intended one-step offset between the two cosine momentum schedules.

    mmssl's hook calls ``ema_update()`` after iteration ``it`` (0-based) at the progress
    of that iteration, so the update after iteration ``it`` uses m(it), the first one
    ``ema_momentum``, as BYOL's ``tau_k = 1 - (1 - tau_base) (cos(pi k / K) + 1) / 2``
    after step k. mmpretrain counts its initial copy as update 0: its average after
    iteration ``it`` (made in the next ``loss()``) is its update ``it + 1`` and uses
    m(it + 1), as the official MoCo v3 code, which sets m from the coming iteration. Run
    inside :func:`reference_max_iters`.
    """
    assert model.ema_momentum_at(0, max_iters) == model.ema_momentum
    for it in range(max_iters):
        expected = model.ema_momentum_at(it + 1, max_iters)
        assert abs(reference_momentum(ema, it + 1) - expected) < 1e-12, it
        assert expected - model.ema_momentum_at(it, max_iters) > 1e-4, it


# ---- SwAV, DenseCL and the masked-image-modeling algorithms against mmpretrain (rules map
# mmpretrain's keys onto mmssl's).

SWAV_RULES = ((r'head\.loss_module\.prototypes\.', 'head.prototypes.'), )
# mmssl's queues and their fill counter: mmpretrain keeps its queue outside the state dict
# (SwAVHook hands it to the loss); the test compares them separately.
SWAV_IGNORE = PREPROCESSOR_STATE + (r'projection_queues\.', r'queue_filled$')
DENSECL_RULES = ema_rules('encoder_k')
# Both queues are (D, K) in mmpretrain and (K, D) in mmssl: copied and compared by the test.
DENSECL_IGNORE = PREPROCESSOR_STATE + (r'encoder_k\.steps$', r'queue2?(_ptr)?$',
                                       r'(global|dense)_keys\.queue\.')
MAE_RULES: KeyRules = ()
MIM_IGNORE = PREPROCESSOR_STATE
# The reference ViT of SimMIM and BEiT: mmpretrain's BEiTPretrainViT set up as a plain ViT
# (reference_plain_vit), with the names of mmssl's MaskedViT.
SIMMIM_RULES: KeyRules = ()
BEIT_RULES = ((r'head\.cls_head\.', 'head.fc.'),
              (r'target_generator\.', 'head.tokenizer.encoder.'))


def reference_plain_vit(arch: dict, img_size: int, patch_size: int) -> dict:
    """mmpretrain's ``BEiTPretrainViT`` (a ViT with a mask token, raw tokens out) set up as
    mmssl's ``MaskedViT``: absolute position embedding, no relative position bias, no
    layer scale, a bias on q, k and v (mmpretrain's BEiT config: shared relative position
    bias, layer scale 0.1, q and v bias only)."""
    return dict(type='BEiTPretrainViT', arch=arch, img_size=img_size, patch_size=patch_size,
                out_type='raw', use_abs_pos_emb=True, use_rel_pos_bias=False,
                use_shared_rel_pos_bias=False, layer_scale_init_value=0.0,
                layer_cfgs=dict(bias=True))


class HookRunner:
    """What mmssl's and mmpretrain's schedule hooks read from mmengine's Runner, so that
    real hooks run at their points of a :func:`train_steps` loop (no dataset, no Runner).

    ``iter`` is the 0-based iteration that runs (after it: the finished one), ``epoch``
    the epoch of it; ``optim_wrapper`` wraps the loop's optimizer (MomentumUpdateHook
    registers its step pre-hook on it). Use :meth:`loss_fn` and :meth:`after_step` as
    :func:`train_steps`' ``loss_fn`` and ``after_step``.

    Args:
        model: the model the hooks act on.
        hooks: mmengine ``Hook`` instances; ``before_train`` runs here.
        epochs: the epoch of each iteration, e.g. ``(0, 1, 1)``.
        optimizer: the loop's optimizer.
    """

    def __init__(self, model: nn.Module, hooks: Sequence, epochs: Sequence[int],
                 optimizer: Optional[torch.optim.Optimizer] = None) -> None:
        from mmengine.logging import MessageHub
        from mmengine.optim import OptimWrapper
        self.model, self.hooks, self.epochs = model, list(hooks), list(epochs)
        self.max_iters, self.world_size = len(self.epochs), 1
        self.max_epochs, self.train_loop = max(self.epochs) + 1, None
        self.iter, self.epoch = 0, None
        self.optim_wrapper = OptimWrapper(optimizer) if optimizer is not None else None
        self.message_hub = MessageHub.get_current_instance()
        self._started = 0
        for hook in self.hooks:
            hook.before_train(self)

    def loss_fn(self, loss_fn: Callable[[nn.Module, object], Tensor]
                ) -> Callable[[nn.Module, object], Tensor]:
        """``loss_fn`` after the hooks' ``before_train_epoch`` (when an epoch starts) and
        ``before_train_iter``."""
        def hooked(model: nn.Module, batch) -> Tensor:
            self.iter = self._started
            self._started += 1
            if self.epochs[self.iter] != self.epoch:
                self.epoch = self.epochs[self.iter]
                for hook in self.hooks:
                    hook.before_train_epoch(self)
            for hook in self.hooks:
                hook.before_train_iter(self, batch_idx=self.iter)
            return loss_fn(model, batch)
        return hooked

    def after_step(self, step: int = 0) -> None:
        """The hooks' ``after_train_iter`` of the iteration that ran (``step`` unused: the
        runner counts, also when :func:`train_in_lockstep` runs one step at a time)."""
        for hook in self.hooks:
            hook.after_train_iter(self, batch_idx=self.iter)


def train_in_lockstep(model: nn.Module, reference: nn.Module, batches: Sequence,
                      rules: KeyRules, own_state: Sequence[str],
                      loss_fns: tuple[Callable, Callable],
                      optimizers: tuple[torch.optim.Optimizer, torch.optim.Optimizer],
                      after_steps: tuple[Optional[Callable], ...] = (None, None),
                      ) -> tuple[StepRecord, StepRecord]:
    """:func:`train_steps` of mmssl's ``model`` and the ``reference``, one step each in
    turn, the reference's state copied into ``model`` (through ``rules``) before each step.

    For tiny BN networks whose trajectories amplify float noise past 1e-5 in a few steps:
    every step is then compared from the same weights. The state matching ``own_state``
    (queues, targets: what the step's hooks and ``loss()`` update) is not copied: each
    model keeps its own, and the test compares them. Each pair holds (mmssl's, the
    reference's) loss function, optimizer and ``after_step``.
    """
    records = (StepRecord(), StepRecord())
    for batch in batches:
        copy_weights(reference, model, rules, own_state)
        for record, net, loss_fn, optimizer, after_step in zip(
                records, (model, reference), loss_fns, optimizers, after_steps):
            step = train_steps(net, [batch], loss_fn, optimizer, after_step)
            record.losses.extend(step.losses)
            record.grads.extend(step.grads)
    return records


def record_calls(monkeypatch, owner, name: str) -> list:
    """Patch the function ``owner.name`` to also keep each result in the returned list.

    For mmssl's mask generators: the masks mmssl draws are recorded, and the reference is
    given the same ones.
    """
    original, results = getattr(owner, name), []

    def recording(*args, **kwargs):
        result = original(*args, **kwargs)
        results.append(result)
        return result
    monkeypatch.setattr(owner, name, recording)
    return results
