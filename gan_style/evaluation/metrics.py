"""SSIM, PSNR (scikit-image) and MAE of 8-bit images, exactly as the files a user sees."""

from __future__ import annotations

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from gan_style.errors import EvaluationError

DATA_RANGE = 255  # 8-bit images: explicit, so float inputs cannot change the scale silently

# ITU-R BT.601 luma weights, the same as PIL's RGB -> L conversion used when loading images.
LUMA = np.array([0.299, 0.587, 0.114])


def _check(a: np.ndarray, b: np.ndarray, name: str) -> None:
    if a.shape != b.shape:
        raise EvaluationError(
            f"{name}: images differ in size ({a.shape[1]}x{a.shape[0]} vs "
            f"{b.shape[1]}x{b.shape[0]}); metrics compare images of one size, without resizing"
        )
    if a.dtype != np.uint8 or b.dtype != np.uint8:
        raise EvaluationError(f"{name}: metrics take 8-bit images, got {a.dtype} and {b.dtype}")


def ssim(a: np.ndarray, b: np.ndarray, name: str = "image") -> float:
    """Mean SSIM (Wang et al. 2004) of two HxWxC uint8 images, channels averaged."""
    _check(a, b, name)
    if a.shape[2] == 1:
        return float(structural_similarity(a[..., 0], b[..., 0], data_range=DATA_RANGE))
    return float(structural_similarity(a, b, channel_axis=-1, data_range=DATA_RANGE))


def psnr(a: np.ndarray, b: np.ndarray, name: str = "image") -> float:
    """PSNR in dB; identical images give +inf (no error to measure)."""
    _check(a, b, name)
    if np.array_equal(a, b):
        return float("inf")
    return float(peak_signal_noise_ratio(a, b, data_range=DATA_RANGE))


def mae(a: np.ndarray, b: np.ndarray, name: str = "image") -> float:
    """Mean absolute difference in grey levels (0-255), over every pixel and channel."""
    _check(a, b, name)
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def luminance(image: np.ndarray) -> np.ndarray:
    """HxWx1 uint8 luma: the `content` protocol compares structure, not colour."""
    if image.shape[2] == 1:
        return image
    y = image.astype(np.float64) @ LUMA
    return np.clip(np.round(y), 0, 255).astype(np.uint8)[..., None]
