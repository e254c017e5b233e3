"""Restoration data: each clean image paired with a damaged copy made on the fly
(`degradation.py`), so any folder of photos or paintings trains a restorer or, with
`model.upscale`, an enlarger."""

from __future__ import annotations

import zlib
from pathlib import Path

import albumentations as A
import numpy as np

from gan_style.config import DataConfig
from gan_style.data.degradation import Degradation, Degrader
from gan_style.data.paired import PairedDataset
from gan_style.data.sampling import SampleKey, item_rng
from gan_style.data.transforms import geometry, to_tensor
from gan_style.errors import DataError
from gan_style.image_io import load_image


def named_rng(path: Path) -> np.random.Generator:
    """The damage of a held-out image is fixed by its name: the same on every evaluation."""
    return np.random.default_rng(zlib.crc32(path.name.encode()))


def restoration_pair(
    path: Path, data: DataConfig, upscale: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """(damaged, clean) for a held-out image at its own size; with `upscale` the clean image
    loses the last rows and columns that do not fill a multiple of it, and the damaged one is
    that many times smaller."""
    clean = load_image(path, data.channels)
    h, w = clean.shape[:2]
    if h < upscale or w < upscale:
        raise DataError(f"{path} is {w}x{h} px: too small to shrink {upscale} times")
    clean = clean[: h - h % upscale, : w - w % upscale]
    degrader = Degrader(Degradation.from_config(data), upscale)
    return degrader.degrade(clean, named_rng(path)), clean


class RestorationDataset(PairedDataset):
    """Items are {"A": damaged, "B": clean, "A_paths", "B_paths"}: the clean image is cropped
    and flipped first, then damaged, so the damage's scale in pixels is what the network sees;
    training draws new damage every epoch, from the item's (seed, epoch, index) generator."""

    def __init__(
        self,
        cfg: DataConfig,
        phase: str = "train",
        train: bool = True,
        seed: int = 0,
        multiple: int = 4,
        verify: bool = True,
        upscale: int = 1,
    ) -> None:
        super().__init__(cfg, phase, train, seed, multiple, verify)
        self.geometry = A.Compose(geometry(cfg, train, multiple * upscale))
        self.tensor = A.Compose(to_tensor())
        self.degrader = Degrader(Degradation.from_config(cfg), upscale)

    def __getitem__(self, key: SampleKey) -> dict:
        index, rng = item_rng(self.seed, key)
        path = self.pairs[index][0]
        self.geometry.set_random_seed(int(rng.integers(2**31)))
        clean = self.geometry(image=load_image(path, self.cfg.channels))["image"]
        damaged = self.degrader.degrade(clean, rng if self.train else named_rng(path))
        return {
            "A": self.tensor(image=damaged)["image"],
            "B": self.tensor(image=clean)["image"],
            "A_paths": str(path),
            "B_paths": str(path),
        }
