"""Run a function in several CPU processes joined by a gloo process group."""
import os
import tempfile
import traceback

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def _map_tensors(obj, fn):
    if isinstance(obj, dict):
        return {key: _map_tensors(value, fn) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_map_tensors(value, fn) for value in obj)
    return fn(obj)


def _entry(fn, rank, world_size, init_file, queue, args):
    try:
        dist.init_process_group('gloo', init_method=f'file://{init_file}', rank=rank,
                                world_size=world_size)
        result = fn(rank, world_size, *args)
        dist.barrier()
        # Tensors cross the queue by value (numpy): a child may exit before the parent
        # reads, which would break torch's shared-memory hand-over.
        result = _map_tensors(result, lambda x: x.numpy() if isinstance(x, torch.Tensor) else x)
        queue.put((rank, result, None))
    except Exception:  # the parent re-raises it with the child's traceback
        queue.put((rank, None, traceback.format_exc()))
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def run_distributed(fn, world_size: int = 2, *args, timeout: float = 300) -> list:
    """``fn(rank, world_size, *args)`` on ``world_size`` processes; their results by rank.

    ``fn`` must be a module-level function (it is pickled into spawned processes).
    """
    ctx = mp.get_context('spawn')
    queue = ctx.Queue()
    with tempfile.TemporaryDirectory() as tmp:
        init_file = os.path.join(tmp, 'rendezvous')
        procs = [ctx.Process(target=_entry, args=(fn, r, world_size, init_file, queue, args))
                 for r in range(world_size)]
        for p in procs:
            p.start()
        results = [queue.get(timeout=timeout) for _ in procs]
        for p in procs:
            p.join(timeout=60)
    errors = [err for _, _, err in results if err]
    if errors:
        raise RuntimeError('a distributed worker failed:\n' + '\n'.join(errors))
    by_rank = sorted(((r, res) for r, res, _ in results), key=lambda item: item[0])
    return [_map_tensors(res, lambda x: torch.from_numpy(x) if hasattr(x, 'dtype') and
                         hasattr(x, 'shape') else x) for _, res in by_rank]
