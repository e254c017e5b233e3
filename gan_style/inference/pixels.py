"""8-bit images as the arrays a generator sees, and back, in NumPy: the same padding and
rounding as `translation.translate_batch` on tensors, for engines that run without PyTorch."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gan_style.inference.padding import pads


def network_input(image: np.ndarray, multiple: int) -> np.ndarray:
    """An HxWxC uint8 image as the 1xCxHxW float32 array in [-1, 1] a network sees, padded as
    `translation.translate_batch` pads (the output is cropped back to the image)."""
    pad_h, pad_w, reflect = pads(image.shape[0], image.shape[1], multiple)
    x = image.astype(np.float32).transpose(2, 0, 1)[None] / np.float32(127.5) - np.float32(1)
    mode = "reflect" if reflect else "edge"
    return np.pad(x, ((0, 0), (0, 0), (0, pad_h), (0, pad_w)), mode=mode)


def to_uint8(y: np.ndarray) -> np.ndarray:
    """A CxHxW network output in [-1, 1] as an HxWxC 8-bit image, rounded half to even as
    `translation.translate_batch` rounds on the tensor, so both paths' files agree."""
    y = np.rint((y + np.float32(1)) * np.float32(127.5))
    return np.clip(y, 0, 255).astype(np.uint8).transpose(1, 2, 0)


def translate_padded(
    image: np.ndarray, multiple: int, network: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """An HxWxC uint8 image through `network` (1xCxHxW float32 arrays in [-1, 1], sides a
    multiple of `multiple`), padded and cropped back to the image's size (times an
    enlarging network's factor)."""
    h, w = image.shape[:2]
    x = network_input(image, multiple)
    y = network(x)
    s = y.shape[-1] // x.shape[-1]
    return to_uint8(y[0, :, : h * s, : w * s])
