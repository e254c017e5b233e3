"""Colorization data: any folder of colour photos, split on the fly into the lightness the model
sees and the colour it learns (CIE Lab, by scikit-image), as in the reference code's
`colorization` dataset.

The model's inputs and outputs are in [-1, 1]: L / 50 - 1 (L in [0, 100]) and ab / 110 (a and b
within about [-110, 110] for colours that RGB can show).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from gan_style.data.base import TranslationDataset
from gan_style.data.folders import domain_images, images_folder
from gan_style.data.lab import rgb_to_lab
from gan_style.data.sampling import SampleKey, item_rng


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
