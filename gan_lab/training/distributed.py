"""`torchrun --nproc_per_node=N -m gan_lab train ...`: data-parallel training over N processes.

Each process trains on its own shard of every epoch with its own noise (seed + rank); gradients are
averaged by DistributedDataParallel (nccl on GPUs, gloo on CPUs). Only rank 0 writes the run
directory: the other ranks get a private Hydra directory that is removed at the end, and learn the
real one from rank 0.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from gan_lab.errors import UserError


@dataclass(frozen=True)
class World:
    rank: int
    size: int
    local_rank: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0


SINGLE = World(rank=0, size=1, local_rank=0)
_cpu_group = None  # a gloo group for host-side votes when the main backend is nccl
# Rank 0 evaluates (trainer.eval_every) while the others wait in a collective: a first FID with 10k
# real images can outlast NCCL's default 10 minutes.
TIMEOUT = timedelta(minutes=60)


def world_from_env() -> World:
    """The process's place in a torchrun launch (RANK, WORLD_SIZE, LOCAL_RANK), or SINGLE."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return SINGLE
    return World(int(os.environ["RANK"]), size, int(os.environ.get("LOCAL_RANK", "0")))


def hydra_overrides_for_workers(world: World) -> list[str]:
    """Ranks above 0 compose the same config but write nothing where rank 0 writes."""
    if world.is_main:
        return []
    private = tempfile.mkdtemp(prefix=f"gan-lab-rank{world.rank}-")
    os.environ["GAN_LAB_PRIVATE_RUN_DIR"] = private
    return [f"hydra.run.dir={private}", "hydra.output_subdir=null"]


def start(world: World, device_name: str):
    """Join the process group; returns this rank's device (cuda:<local rank> with GPUs)."""
    import torch
    import torch.distributed as dist

    from gan_lab.training.device import resolve_device

    device = resolve_device(device_name)
    if device.type == "cuda":
        gpus = torch.cuda.device_count()
        if world.local_rank >= gpus:
            processes = os.environ.get("LOCAL_WORLD_SIZE", world.local_rank + 1)
            raise UserError(
                f"torchrun --nproc_per_node={processes} but this machine has {gpus} GPU(s); "
                f"use --nproc_per_node={gpus} or fewer (one process per GPU), or trainer.device=cpu"
            )
        device = torch.device("cuda", world.local_rank)
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo", timeout=TIMEOUT)
    global _cpu_group
    _cpu_group = dist.new_group(backend="gloo", timeout=TIMEOUT) if device.type == "cuda" else None
    if not world.is_main:
        logging.getLogger("gan_lab").setLevel(logging.ERROR)
    return device


def shared_run_dir(world: World, run_dir: Path) -> Path:
    """Rank 0's run directory, on every rank."""
    import torch.distributed as dist

    box = [str(run_dir)]
    dist.broadcast_object_list(box, src=0)
    return Path(box[0])


def wrap(model, world: World, device, broadcast_buffers: bool = True):
    """The model in DistributedDataParallel (which copies rank 0's weights to every rank).

    D is wrapped with broadcast_buffers=False: it is called twice (real, generated) before one
    backward, and re-broadcasting BatchNorm's running statistics in place before the second call
    breaks that backward (torch 2.11). Trainer.save_checkpoint gives every rank rank 0's (sync_buffers).
    """
    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids, broadcast_buffers=broadcast_buffers)


def sync_buffers(model) -> None:
    """Copy rank 0's buffers (BatchNorm running statistics) to every rank, e.g. before a checkpoint."""
    import torch.distributed as dist

    for buffer in model.buffers():
        dist.broadcast(buffer, src=0)


def size() -> int:
    """The number of processes in the default process group (1 outside torchrun)."""
    import torch.distributed as dist

    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def all_reduce_(tensor, op: str = "sum"):
    """In-place all-reduce (sum or max) across ranks; returns the tensor."""
    import torch.distributed as dist

    dist.all_reduce(tensor, op=dist.ReduceOp.SUM if op == "sum" else dist.ReduceOp.MAX)
    return tensor


def any_rank(flag: bool) -> bool:
    """True on every rank when it is true on one (a host-side vote: no GPU sync)."""
    import torch
    import torch.distributed as dist

    vote = torch.tensor([int(flag)])
    dist.all_reduce(vote, op=dist.ReduceOp.MAX, group=_cpu_group)
    return bool(vote.item())


def gather_state(state: dict, world: World) -> list[dict] | None:
    """Every rank's state dict (tensors and plain values), on rank 0; None elsewhere."""
    import io

    import torch
    import torch.distributed as dist

    buffer = io.BytesIO()
    torch.save(state, buffer)  # sent as bytes, read back with weights_only=True
    found = [None] * world.size if world.is_main else None
    dist.gather_object(buffer.getvalue(), found, dst=0)
    return [torch.load(io.BytesIO(raw), weights_only=True) for raw in found] if world.is_main else None


def finish(world: World, completed: bool) -> None:
    """Leave the process group and remove a worker's private directory.

    After a completed run every rank meets at a barrier first: destroying the group while another rank
    is still finishing can hang at exit (seen with gloo on torch 2.4). After a failure there is no
    barrier (the other ranks may never reach it); torchrun stops them.
    """
    import torch.distributed as dist

    if dist.is_initialized():
        if completed:
            dist.barrier()
        dist.destroy_process_group()
    private = os.environ.pop("GAN_LAB_PRIVATE_RUN_DIR", None)
    if private and not world.is_main:
        shutil.rmtree(private, ignore_errors=True)
