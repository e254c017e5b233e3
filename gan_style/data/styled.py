"""Unpaired data with several styles: photos in trainA/, paintings in trainB/<style>/."""

from __future__ import annotations

from pathlib import Path

from gan_style.data.base import TranslationDataset
from gan_style.data.folders import domain_images, style_names
from gan_style.data.sampling import SampleKey, item_rng


class StyledDataset(TranslationDataset):
    """Items are {"A", "B", "style", "A_paths", "B_paths"}: a photo, and a painting of a style
    drawn at random (uniformly over styles, so a small style is not drowned by a big one)."""

    def _find(self, phase: str) -> list[Path]:
        self.styles = style_names(self.cfg, phase)
        self.paths_A = domain_images(self.cfg.root, f"{phase}A", self.cfg.dataset)
        self.paths_B = [
            domain_images(self.cfg.root, f"{phase}B/{s}", self.cfg.dataset) for s in self.styles
        ]
        return self.paths_A + [p for paths in self.paths_B for p in paths]

    def _drop(self, bad: set[Path]) -> None:
        self.paths_A = self._kept(self.paths_A, bad, f"{self.cfg.root} (A)")
        self.paths_B = [
            self._kept(paths, bad, f"{self.cfg.root} (style {style})")
            for paths, style in zip(self.paths_B, self.styles, strict=True)
        ]

    def __len__(self) -> int:
        return len(self.paths_A)

    def __getitem__(self, key: SampleKey) -> dict:
        index, rng = item_rng(self.seed, key)
        style = int(rng.integers(len(self.styles)))
        paths = self.paths_B[style]
        path_A, path_B = self.paths_A[index], paths[int(rng.integers(len(paths)))]
        seed_A, seed_B = (int(s) for s in rng.integers(2**31, size=2))
        return {
            "A": self._load(path_A, seed_A),
            "B": self._load(path_B, seed_B),
            "style": style,
            "A_paths": str(path_A),
            "B_paths": str(path_B),
        }
