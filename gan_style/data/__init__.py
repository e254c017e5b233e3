"""Datasets, image reading and augmentation."""

from gan_style.image_io import IMAGE_EXTENSIONS, find_images, load_image, verify_images
from gan_style.data.transforms import build_transforms
from gan_style.data.unaligned import EpochSampler, UnalignedDataset

__all__ = [
    "IMAGE_EXTENSIONS",
    "EpochSampler",
    "UnalignedDataset",
    "build_transforms",
    "find_images",
    "load_image",
    "verify_images",
]
