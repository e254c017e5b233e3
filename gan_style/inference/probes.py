"""Photo-like probe images, for checking converted networks against PyTorch and for calibrating
int8 ones when the user gives no photos."""

from __future__ import annotations

import numpy as np


def smooth_probe(rng: np.random.Generator, h: int, w: int, channels: int) -> np.ndarray:
    """A photo-like 8-bit image: gradients and noise, not white noise (whose outputs saturate)."""
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    phase = rng.uniform(0, 6, channels)
    image = np.stack(
        [0.5 + 0.4 * np.sin(5 * (xx + yy * (c + 1)) + phase[c]) for c in range(channels)], -1
    )
    image += rng.normal(0, 0.03, image.shape)
    return (np.clip(image, 0, 1) * 255).astype(np.uint8)
