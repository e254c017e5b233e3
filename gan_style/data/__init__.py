"""Datasets, augmentation, held-out sets and dataset building."""

from __future__ import annotations

from gan_style.config import DataConfig
from gan_style.data.base import TranslationDataset
from gan_style.data.colorization import ColorizationDataset
from gan_style.data.held_out import HeldOut, held_out_images, held_out_samples
from gan_style.data.paired import PairedDataset, load_pair
from gan_style.data.sampling import EpochSampler
from gan_style.data.styled import StyledDataset, style_names
from gan_style.data.transforms import build_transforms
from gan_style.data.unaligned import UnalignedDataset
from gan_style.image_io import IMAGE_EXTENSIONS, find_images, load_image

DATASETS = {
    "unaligned": UnalignedDataset,
    "aligned": PairedDataset,
    "paired": PairedDataset,
    "colorization": ColorizationDataset,
}


def build_dataset(
    cfg: DataConfig,
    phase: str = "train",
    train: bool = True,
    seed: int = 0,
    multiple: int = 4,
    styled: bool = False,
) -> TranslationDataset:
    """The dataset class for `cfg.dataset_mode`; `styled` (multistyle models) reads
    trainB/<style>/ folders."""
    if styled:
        return StyledDataset(cfg, phase, train=train, seed=seed, multiple=multiple)
    return DATASETS[cfg.dataset_mode](cfg, phase, train=train, seed=seed, multiple=multiple)


__all__ = [
    "DATASETS",
    "IMAGE_EXTENSIONS",
    "ColorizationDataset",
    "EpochSampler",
    "HeldOut",
    "PairedDataset",
    "StyledDataset",
    "TranslationDataset",
    "UnalignedDataset",
    "build_dataset",
    "build_transforms",
    "find_images",
    "held_out_images",
    "held_out_samples",
    "load_image",
    "load_pair",
    "style_names",
]
