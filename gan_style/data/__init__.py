"""Datasets, augmentation and dataset building."""

from __future__ import annotations

from torch.utils.data import Dataset

from gan_style.config import DataConfig
from gan_style.data.paired import PairedDataset, load_pair
from gan_style.data.styled import StyledDataset, style_names
from gan_style.data.transforms import build_transforms
from gan_style.data.unaligned import EpochSampler, UnalignedDataset
from gan_style.image_io import IMAGE_EXTENSIONS, find_images, load_image, verify_images

DATASETS = {"unaligned": UnalignedDataset, "aligned": PairedDataset, "paired": PairedDataset}


def build_dataset(
    cfg: DataConfig,
    phase: str = "train",
    train: bool = True,
    seed: int = 0,
    multiple: int = 4,
    styled: bool = False,
) -> Dataset:
    """The dataset class for `cfg.dataset_mode`; `styled` (multistyle models) reads
    trainB/<style>/ folders."""
    if styled:
        return StyledDataset(cfg, phase, train=train, seed=seed, multiple=multiple)
    return DATASETS[cfg.dataset_mode](cfg, phase, train=train, seed=seed, multiple=multiple)


__all__ = [
    "DATASETS",
    "IMAGE_EXTENSIONS",
    "EpochSampler",
    "PairedDataset",
    "StyledDataset",
    "UnalignedDataset",
    "build_dataset",
    "build_transforms",
    "find_images",
    "load_image",
    "load_pair",
    "style_names",
    "verify_images",
]
