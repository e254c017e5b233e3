"""Datasets, augmentation, held-out sets and dataset building."""

from __future__ import annotations

from importlib import import_module
from typing import Any

# Loaded on first use: inference and evaluation read `lab` or `held_out` without importing the
# training pipeline (albumentations takes longer to import than the rest of a translation).
_LAZY = {
    "TranslationDataset": "base",
    "ColorizationDataset": "colorization",
    "HeldOut": "held_out",
    "held_out_images": "held_out",
    "held_out_samples": "held_out",
    "PairedDataset": "paired",
    "load_pair": "paired",
    "EpochSampler": "sampling",
    "StyledDataset": "styled",
    "style_names": "styled",
    "build_transforms": "transforms",
    "UnalignedDataset": "unaligned",
    "DATASETS": "registry",
    "build_dataset": "registry",
}


def __getattr__(name: str) -> Any:
    if name in ("IMAGE_EXTENSIONS", "find_images", "load_image"):
        return getattr(import_module("gan_style.image_io"), name)
    if name in _LAZY:
        return getattr(import_module(f"gan_style.data.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'gan_style.data' has no attribute '{name}'")


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
