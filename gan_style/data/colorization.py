"""Colorization data: any folder of colour photos, split on the fly into the lightness the model
sees and the colour it learns (CIE Lab, by scikit-image), as in the reference code's
`colorization` dataset.

The model's inputs and outputs are in [-1, 1]: L / 50 - 1 (L in [0, 100]) and ab / 110 (a and b
within about [-110, 110] for colours that RGB can show).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from skimage.color import lab2rgb, rgb2lab

from gan_style.data.base import TranslationDataset
from gan_style.data.folders import domain_images, split_folder
from gan_style.data.sampling import SampleKey, item_rng

AB_SCALE = 110.0


def rgb_to_lab(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """HxWx3 RGB (uint8, or float in [0, 1]) -> (L, ab) scaled to [-1, 1]: HxWx1 and HxWx2."""
    if rgb.dtype == np.uint8:
        rgb = rgb.astype(np.float64) / 255
    lab = rgb2lab(rgb)
    return (lab[..., :1] / 50 - 1).astype(np.float32), (lab[..., 1:] / AB_SCALE).astype(np.float32)


def lab_to_rgb(lightness: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """(L, ab) in [-1, 1] (HxWx1, HxWx2) -> HxWx3 float RGB in [0, 1]."""
    lab = np.concatenate([(lightness + 1) * 50, ab * AB_SCALE], axis=-1).astype(np.float64)
    with warnings.catch_warnings():  # a predicted colour outside sRGB is clipped, on purpose
        warnings.filterwarnings("ignore", message="Conversion from CIE-LAB")
        return np.clip(lab2rgb(lab), 0, 1)


def gray_rgb(rgb: np.ndarray) -> np.ndarray:
    """The uint8 RGB image with its colour removed (a and b set to 0): what the model sees."""
    lightness, ab = rgb_to_lab(rgb)
    return np.round(lab_to_rgb(lightness, np.zeros_like(ab)) * 255).astype(np.uint8)


def images_folder(root: Path, phase: str) -> str:
    """The photos of a split: `train/` (and `test/`, or `val/`), or the A side of a CycleGAN
    dataset (`trainA/`), so that any photo collection trains colorization."""
    folder = split_folder(root, phase)
    return folder if (root / folder).is_dir() or not (root / f"{phase}A").is_dir() else f"{phase}A"


class ColorizationDataset(TranslationDataset):
    """Items are {"A": L (1 x H x W), "B": ab (2 x H x W), "A_paths", "B_paths"} of one photo,
    after the crop and flip."""

    def _find(self, phase: str) -> list[Path]:
        root = Path(self.cfg.root)
        self.paths = domain_images(root, images_folder(root, phase), self.cfg.dataset)
        return self.paths

    def _drop(self, bad: set[Path]) -> None:
        self.paths = self._kept(self.paths, bad, str(self.cfg.root))

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, key: SampleKey) -> dict:
        index, rng = item_rng(self.seed, key)
        path = self.paths[index]
        rgb = (self._load(path, int(rng.integers(2**31))).permute(1, 2, 0).numpy() + 1) / 2
        lightness, ab = rgb_to_lab(np.clip(rgb, 0, 1))
        return {
            "A": torch.from_numpy(lightness).permute(2, 0, 1),
            "B": torch.from_numpy(ab).permute(2, 0, 1),
            "A_paths": str(path),
            "B_paths": str(path),
        }
