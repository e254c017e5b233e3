"""Unpaired two-domain dataset: trainA/ and trainB/ drawn independently (CycleGAN)."""

from __future__ import annotations

from pathlib import Path

from gan_style.data.base import TranslationDataset
from gan_style.data.folders import domain_images
from gan_style.data.sampling import SampleKey, item_rng


class UnalignedDataset(TranslationDataset):
    """Items are {"A", "B", "A_paths", "B_paths"}, images in [-1, 1]; B is drawn at random.

    The randomness of an item (which B, the crop, the flip) is a function of (seed, epoch,
    index), not of process state, so data loader workers and resumed runs see the same items.
    """

    def _find(self, phase: str) -> list[Path]:
        self.paths_A = domain_images(self.cfg.root, f"{phase}A", self.cfg.dataset)
        self.paths_B = domain_images(self.cfg.root, f"{phase}B", self.cfg.dataset)
        return self.paths_A + self.paths_B

    def _drop(self, bad: set[Path]) -> None:
        self.paths_A = self._kept(self.paths_A, bad, f"{self.cfg.root} (A)")
        self.paths_B = self._kept(self.paths_B, bad, f"{self.cfg.root} (B)")

    def __len__(self) -> int:
        return max(len(self.paths_A), len(self.paths_B))

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
