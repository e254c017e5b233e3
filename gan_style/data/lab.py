"""Photos as CIE Lab lightness and colour (scikit-image), scaled to the networks' [-1, 1].

Kept apart from the dataset so that inference (the colorization model's image wrapper) reads it
without importing the training data pipeline (albumentations).
"""

from __future__ import annotations

import warnings

import numpy as np

AB_SCALE = 110.0


def rgb_to_lab(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """HxWx3 RGB (uint8, or float in [0, 1]) -> (L, ab) scaled to [-1, 1]: HxWx1 and HxWx2."""
    from skimage.color import rgb2lab  # on use: translating other models never needs it

    if rgb.dtype == np.uint8:
        rgb = rgb.astype(np.float64) / 255
    lab = rgb2lab(rgb)
    return (lab[..., :1] / 50 - 1).astype(np.float32), (lab[..., 1:] / AB_SCALE).astype(np.float32)


def lab_to_rgb(lightness: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """(L, ab) in [-1, 1] (HxWx1, HxWx2) -> HxWx3 float RGB in [0, 1]."""
    from skimage.color import lab2rgb

    lab = np.concatenate([(lightness + 1) * 50, ab * AB_SCALE], axis=-1).astype(np.float64)
    with warnings.catch_warnings():  # a predicted colour outside sRGB is clipped, on purpose
        warnings.filterwarnings("ignore", message="Conversion from CIE-LAB")
        return np.clip(lab2rgb(lab), 0, 1)


def gray_rgb(rgb: np.ndarray) -> np.ndarray:
    """The uint8 RGB image with its colour removed (a and b set to 0): what the model sees."""
    lightness, ab = rgb_to_lab(rgb)
    return np.round(lab_to_rgb(lightness, np.zeros_like(ab)) * 255).astype(np.uint8)
