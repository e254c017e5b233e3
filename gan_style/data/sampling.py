"""Randomness fixed by (seed, epoch, index), and a sampler that makes resume exact."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import Sampler

SampleKey = int | tuple[int, int]  # an index, or (epoch, index) from EpochSampler


def item_rng(seed: int, key: SampleKey) -> tuple[int, np.random.Generator]:
    """The item's index and its own generator: randomness fixed by (seed, epoch, index), not by
    process state, so loader workers and resumed runs draw the same items."""
    epoch, index = key if isinstance(key, tuple) else (0, key)
    return index, np.random.default_rng([seed, epoch, index])


class EpochSampler(Sampler[tuple[int, int]]):
    """Shuffles with a per-epoch seed and yields (epoch, index); `skip` resumes mid-epoch.

    `rank`/`world_size` give each process of a distributed run its own share of the epoch.
    """

    def __init__(
        self, size: int, seed: int = 0, shuffle: bool = True, rank: int = 0, world_size: int = 1
    ) -> None:
        self.size, self.seed, self.shuffle = size, seed, shuffle
        self.rank, self.world_size = rank, world_size
        self.epoch, self.skip = 0, 0

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        self.epoch, self.skip = epoch, skip

    def _indices(self) -> list[int]:
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
            order = torch.randperm(self.size, generator=g).tolist()
        else:
            order = list(range(self.size))
        if self.world_size > 1:  # every rank gets as many samples: pad with the first ones
            order += order[: -len(order) % self.world_size]
        return order[self.rank :: self.world_size]

    def __iter__(self) -> Iterator[tuple[int, int]]:
        for i in self._indices()[self.skip :]:
            yield self.epoch, i

    def __len__(self) -> int:
        return max(0, len(self._indices()) - self.skip)
