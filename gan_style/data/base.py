"""What every training dataset shares: its files checked up front, one augmentation pipeline,
and items whose randomness is fixed by (seed, epoch, index)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import ClassVar

import torch
from torch.utils.data import Dataset

from gan_style.config import DataConfig
from gan_style.data.transforms import build_transforms
from gan_style.errors import DataError
from gan_style.image_io import load_image, unreadable_images


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
        self.cfg, self.seed, self.train = cfg, seed, train
        # Decode every file now, so that a bad one is named before training starts, and left
        # out: one unreadable file does not stop a run on the others.
        files = self._find(phase)
        self.unreadable = unreadable_images(files) if verify else {}
        for path, reason in self.unreadable.items():
            print(f"skipping unreadable image {path}: {reason}", file=sys.stderr)
        if self.unreadable:
            self._drop(set(self.unreadable))
        self.transform = build_transforms(cfg, train, multiple, paired=self.paired)

    def _find(self, phase: str) -> list[Path]:
        """Find this dataset's files for `phase`; return all of them, for verification."""
        raise NotImplementedError

    def _drop(self, bad: set[Path]) -> None:
        """Leave out the files `bad`, and whatever needs them (a pair)."""
        raise NotImplementedError

    @staticmethod
    def _kept(paths: list[Path], bad: set[Path], where: str) -> list[Path]:
        kept = [p for p in paths if p not in bad]
        if not kept:
            raise DataError(f"every image in {where} is unreadable (named above); replace them")
        return kept

    def _load(self, path: Path, seed: int) -> torch.Tensor:
        self.transform.set_random_seed(seed)
        return self.transform(image=load_image(path, self.cfg.channels))["image"]
