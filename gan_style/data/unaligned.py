"""Unpaired two-domain dataset (trainA/ + trainB/) and a sampler that makes resume exact."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from gan_style.config import DataConfig
from gan_style.image_io import find_images, load_image, verify_images
from gan_style.data.transforms import build_transforms
from gan_style.errors import DataError

SampleKey = int | tuple[int, int]  # an index, or (epoch, index) from EpochSampler


def item_rng(seed: int, key: SampleKey) -> tuple[int, np.random.Generator]:
    """The item's index and its own generator: randomness fixed by (seed, epoch, index), not by
    process state, so loader workers and resumed runs draw the same items."""
    epoch, index = key if isinstance(key, tuple) else (0, key)
    return index, np.random.default_rng([seed, epoch, index])


def fetch_hint(root: Path, dataset: str = "", kind: str = "cyclegan") -> str:
    """The command that puts data at `root`, for error messages."""
    name = dataset or root.name
    if name == "demo":
        return "build it with `gan-style data demo` (or `make demo`)"
    if name == "painters":
        return "download the four <painter>2photo sets, then run `gan-style data painters`"
    flag, make_flag = (" --kind pix2pix", " KIND=pix2pix") if kind == "pix2pix" else ("", "")
    return (
        f"fetch it with `gan-style data download {name}{flag}` "
        f"(or `make data DATASET={name}{make_flag}`), or put the folders there by hand"
    )


def domain_images(root: str | Path, folder: str, dataset: str = "") -> list[Path]:
    path = Path(root) / folder
    if not path.is_dir():
        raise DataError(f"dataset folder {path} not found; {fetch_hint(Path(root), dataset)}")
    paths = find_images(path)
    if not paths:
        raise DataError(f"no images (jpg, png, webp, bmp, tif) in {path}; add some or fix data.root")
    return paths


class UnalignedDataset(Dataset):
    """Items are {"A", "B", "A_paths", "B_paths"}, images in [-1, 1]; B is drawn at random.

    The randomness of an item (which B, the crop, the flip) is a function of (seed, epoch,
    index), not of process state, so data loader workers and resumed runs see the same items.
    """

    def __init__(
        self,
        cfg: DataConfig,
        phase: str = "train",
        train: bool = True,
        seed: int = 0,
        multiple: int = 4,
        verify: bool = True,
    ) -> None:
        self.cfg, self.seed = cfg, seed
        self.paths_A = domain_images(cfg.root, f"{phase}A", cfg.dataset)
        self.paths_B = domain_images(cfg.root, f"{phase}B", cfg.dataset)
        if verify:
            verify_images(self.paths_A + self.paths_B)
        self.transform = build_transforms(cfg, train, multiple)

    def __len__(self) -> int:
        return max(len(self.paths_A), len(self.paths_B))

    def _load(self, path: Path, seed: int) -> torch.Tensor:
        self.transform.set_random_seed(seed)
        return self.transform(image=load_image(path, self.cfg.channels))["image"]

    def __getitem__(self, key: SampleKey) -> dict:
        index, rng = item_rng(self.seed, key)
        path_A = self.paths_A[index % len(self.paths_A)]
        path_B = self.paths_B[int(rng.integers(len(self.paths_B)))]
        seed_A, seed_B = (int(s) for s in rng.integers(2**31, size=2))
        return {
            "A": self._load(path_A, seed_A),
            "B": self._load(path_B, seed_B),
            "A_paths": str(path_A),
            "B_paths": str(path_B),
        }


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
