"""What every training dataset shares: its files checked up front, one augmentation pipeline,
and items whose randomness is fixed by (seed, epoch, index)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import torch
from torch.utils.data import Dataset

from gan_style.config import DataConfig
from gan_style.data.transforms import build_transforms
from gan_style.image_io import load_image, verify_images


class TranslationDataset(Dataset):
    """Base of the datasets: subclasses find their files in `_find`; items are dicts with "A"
    and "B" images in [-1, 1] plus "A_paths" and "B_paths"."""

    paired: ClassVar[bool] = False  # A and B of an item are cropped and flipped alike

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
        files = self._find(phase)
        if verify:  # decode every file now, so a bad one is named before training starts
            verify_images(files)
        self.transform = build_transforms(cfg, train, multiple, paired=self.paired)

    def _find(self, phase: str) -> list[Path]:
        """Find this dataset's files for `phase`; return all of them, for verification."""
        raise NotImplementedError

    def _load(self, path: Path, seed: int) -> torch.Tensor:
        self.transform.set_random_seed(seed)
        return self.transform(image=load_image(path, self.cfg.channels))["image"]
