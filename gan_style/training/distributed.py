"""Data-parallel training over processes started by torchrun (one per GPU, or gloo on CPU).

Gradients are averaged with one flattened all-reduce per optimizer step. (The GAN step runs each
generator several times before one backward, which DistributedDataParallel's reducer handles
poorly; averaging after backward gives the same update.)
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors


@dataclass
class Group:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def main(self) -> bool:
        """Rank 0 writes logs, samples and checkpoints."""
        return self.rank == 0


def setup(device_name: str) -> tuple[Group, str]:
    """Join the process group torchrun describes (WORLD_SIZE > 1); returns it and the device."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Group(), device_name
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    cuda = device_name in ("auto", "cuda") and torch.cuda.is_available()
    if cuda:
        torch.cuda.set_device(local)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if cuda else "gloo")
    return Group(rank, world, local), f"cuda:{local}" if cuda else "cpu"


def broadcast_parameters(nets: Iterable[nn.Module], group: Group) -> None:
    """Every rank starts from rank 0's weights and buffers."""
    if not group.enabled:
        return
    for net in nets:
        for tensor in [*net.parameters(), *net.buffers()]:
            dist.broadcast(tensor.data, src=0)


def average_gradients(params: Iterable[nn.Parameter], group: Group) -> None:
    """Mean of each gradient over ranks: with per-rank mean losses, the gradient of the mean
    loss over the global batch."""
    if not group.enabled:
        return
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    flat = _flatten_dense_tensors(grads)
    dist.all_reduce(flat)
    flat /= group.world_size
    for grad, averaged in zip(grads, _unflatten_dense_tensors(flat, grads), strict=True):
        grad.copy_(averaged)


def any_rank(flag: bool, group: Group) -> bool:
    """True on every rank if it is true on one (e.g. a stop signal), so all stop together."""
    if not group.enabled:
        return flag
    t = torch.tensor([1.0 if flag else 0.0])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def weight_digests(nets: Iterable[nn.Module], group: Group) -> list[float]:
    """A checksum of the weights per rank, gathered: equal values mean the ranks agree."""
    total = torch.zeros(1, dtype=torch.float64)
    for net in nets:
        for p in net.parameters():
            total += p.detach().double().cpu().sum() + p.detach().double().cpu().abs().sum() * 1e-3
    if not group.enabled:
        return [total.item()]
    gathered = [torch.zeros_like(total) for _ in range(group.world_size)]
    dist.all_gather(gathered, total)
    return [t.item() for t in gathered]


def sync_batchnorm(model: nn.Module, device: torch.device, group: Group) -> nn.Module:
    """Batch statistics over the global batch (CUDA only: SyncBatchNorm has no CPU kernels).
    Parameter and buffer names stay the same, so checkpoints do not change."""
    if not group.enabled or device.type != "cuda":
        return model
    return nn.SyncBatchNorm.convert_sync_batchnorm(model)


def teardown(group: Group) -> None:
    if group.enabled and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
