"""Which dataset class reads which `data.dataset_mode`."""

from __future__ import annotations

from gan_style.config import DataConfig
from gan_style.data.base import TranslationDataset
from gan_style.data.colorization import ColorizationDataset
from gan_style.data.paired import PairedDataset
from gan_style.data.restoration import RestorationDataset
from gan_style.data.styled import StyledDataset
from gan_style.data.unaligned import UnalignedDataset

DATASETS = {
    "unaligned": UnalignedDataset,
    "aligned": PairedDataset,
    "paired": PairedDataset,
    "colorization": ColorizationDataset,
    "sketch": PairedDataset,  # each image and its line drawing
    "restoration": RestorationDataset,  # each image and a damaged copy
}


def build_dataset(
    cfg: DataConfig,
    phase: str = "train",
    train: bool = True,
    seed: int = 0,
    multiple: int = 4,
    styled: bool = False,
    upscale: int = 1,
) -> TranslationDataset:
    """The dataset class for `cfg.dataset_mode`; `styled` (multistyle models) reads
    trainB/<style>/ folders; `upscale` shrinks restoration inputs (super-resolution)."""
    if cfg.dataset_mode == "restoration":
        return RestorationDataset(cfg, phase, train=train, seed=seed, multiple=multiple,
                                  upscale=upscale)  # fmt: skip
    if styled:
        return StyledDataset(cfg, phase, train=train, seed=seed, multiple=multiple)
    return DATASETS[cfg.dataset_mode](cfg, phase, train=train, seed=seed, multiple=multiple)
