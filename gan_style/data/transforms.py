"""The albumentations pipeline that turns an 8-bit image into a [-1, 1] tensor."""

from __future__ import annotations

import albumentations as A
import cv2
import numpy as np
from albumentations.pytorch import ToTensorV2

from gan_style.config import DataConfig


def _resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    out = cv2.resize(image, (width, height), interpolation=cv2.INTER_CUBIC)
    return out if out.ndim == 3 else out[:, :, None]


def scale_width(width: int, min_height: int):
    """Scale to `width`, keeping the aspect ratio, but at least `min_height` tall (reference)."""

    def apply(image: np.ndarray, **_) -> np.ndarray:
        h, w = image.shape[:2]
        return _resize(image, width, max(round(width * h / w), min_height))

    return apply


def at_least(side: int):
    """Scale up (never down) so that the shorter side is at least `side`: small images get
    resized rather than failing the crop."""

    def apply(image: np.ndarray, **_) -> np.ndarray:
        h, w = image.shape[:2]
        if min(h, w) >= side:
            return image
        s = side / min(h, w)
        return _resize(image, max(side, round(w * s)), max(side, round(h * s)))

    return apply


def multiple_of(base: int):
    """Round each side to the nearest multiple of `base` so the generator returns the same size."""

    def apply(image: np.ndarray, **_) -> np.ndarray:
        h, w = image.shape[:2]
        nh, nw = max(base, round(h / base) * base), max(base, round(w / base) * base)
        return image if (nh, nw) == (h, w) else _resize(image, nw, nh)

    return apply


def geometry(cfg: DataConfig, train: bool, multiple: int = 4) -> list[A.BasicTransform]:
    """The resize, crop and flip steps of `build_transforms`, on 8-bit images.

    | preprocess           | train                              | eval                       |
    |----------------------|------------------------------------|----------------------------|
    | resize_and_crop      | resize to load_size, random crop   | resize to crop_size        |
    | scale_width_and_crop | width to load_size, random crop    | width to crop_size, centre |
    | crop                 | random crop (small images scaled)  | centre crop                |
    | none                 | sides to a multiple of `multiple`  | the same                   |
    """
    load, crop = cfg.load_size, cfg.crop_size
    steps: list[A.BasicTransform]
    if cfg.preprocess == "resize_and_crop":
        steps = (
            [A.Resize(load, load), A.RandomCrop(crop, crop)] if train else [A.Resize(crop, crop)]
        )
    elif cfg.preprocess == "scale_width_and_crop":
        width = load if train else crop
        crop_step = A.RandomCrop(crop, crop) if train else A.CenterCrop(crop, crop)
        steps = [A.Lambda(image=scale_width(width, crop), name="scale_width"), crop_step]
    elif cfg.preprocess == "crop":
        crop_step = A.RandomCrop(crop, crop) if train else A.CenterCrop(crop, crop)
        steps = [A.Lambda(image=at_least(crop), name="at_least"), crop_step]
    else:
        steps = [A.Lambda(image=multiple_of(multiple), name="multiple_of")]
    if train and cfg.flip:
        steps.append(A.HorizontalFlip(p=0.5))
    return steps


def to_tensor() -> list[A.BasicTransform]:
    """8-bit HxWxC to a CxHxW tensor in [-1, 1]."""
    return [A.Normalize(mean=0.5, std=0.5, max_pixel_value=255.0), ToTensorV2()]


def build_transforms(
    cfg: DataConfig, train: bool, multiple: int = 4, paired: bool = False
) -> A.Compose:
    """Training crops at random and flips; evaluation is deterministic at `crop_size`
    (`geometry`), then a [-1, 1] tensor.

    With `paired`, the pipeline also takes `target=`, transformed exactly like `image=`.
    """
    steps = geometry(cfg, train, multiple) + to_tensor()
    # Paired data: `target` gets exactly the crop and flip of `image`.
    return A.Compose(steps, additional_targets={"target": "image"} if paired else None)
