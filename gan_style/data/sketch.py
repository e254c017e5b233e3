"""Line drawings from any image, by XDoG, the extended difference of Gaussians (Winnemöller et
al. 2012, "XDoG: an eXtended difference-of-Gaussians compendium"): deterministic, so the
drawing of a photo is the same on every run and machine, and evaluation has ground truth.

The luminance is blurred at two scales, sigma and 1.6 sigma; their sharpened difference
D = G(sigma) - 0.98 G(1.6 sigma) is near zero on flat areas and falls below it on the dark
side of an edge. Paper (white) where D >= threshold, ink where it falls below, with a steep
tanh ramp between, so the lines are smooth, not jagged.
"""

from __future__ import annotations

import numpy as np
from skimage.color import rgb2gray
from skimage.filters import gaussian

SCALE_RATIO = 1.6  # the second Gaussian's sigma over the first's (the DoG's classic ratio)
TAU = 0.98  # weight of the wider Gaussian: below 1 keeps flat areas white
SHARPNESS = 200.0  # phi: how fast ink fades to paper past the threshold


def line_drawing(
    image: np.ndarray, thickness: float = 1.0, threshold: float = -0.005
) -> np.ndarray:
    """The drawing of an HxWxC uint8 image (C = 1 or 3) as an HxWxC uint8 grey image, black
    lines on white. `thickness`: the first Gaussian's sigma in pixels (wider lines, less
    texture); `threshold`: lower keeps only stronger edges."""
    grey = rgb2gray(image) if image.shape[2] == 3 else image[..., 0] / 255.0
    grey = grey.astype(np.float64)
    fine = gaussian(grey, sigma=thickness, mode="reflect", preserve_range=True)
    wide = gaussian(grey, sigma=SCALE_RATIO * thickness, mode="reflect", preserve_range=True)
    difference = fine - TAU * wide
    paper = np.where(
        difference >= threshold, 1.0, 1.0 + np.tanh(SHARPNESS * (difference - threshold))
    )
    drawing = np.rint(np.clip(paper, 0.0, 1.0) * 255).astype(np.uint8)
    return np.repeat(drawing[..., None], image.shape[2], axis=2)


HINT_FRACTION = 8  # a hint's side: the image's shorter side over this (9 px at 72 px)
HINT_SATURATION = 24  # grey levels between a pixel's channels above which it is a hint


def hint_side(height: int, width: int) -> int:
    return max(2, round(min(height, width) / HINT_FRACTION))


def colour_hints(
    drawing: np.ndarray, image: np.ndarray, count: int, rng: np.random.Generator
) -> np.ndarray:
    """The HxWx3 drawing with `count` colour hints: squares at random places, each filled with
    the image's mean colour there, as a user's colour strokes tell colour filling which colour
    goes where (Zhang et al. 2017, "Real-time user-guided image colorization")."""
    hinted = drawing.copy()
    height, width = drawing.shape[:2]
    side = min(hint_side(height, width), height, width)
    for _ in range(count):
        top, left = int(rng.integers(0, height - side + 1)), int(rng.integers(0, width - side + 1))
        patch = image[top : top + side, left : left + side].reshape(-1, image.shape[2])
        hinted[top : top + side, left : left + side] = np.rint(patch.mean(0)).astype(np.uint8)
    return hinted


def hint_mask(drawing: np.ndarray) -> np.ndarray:
    """Where an HxWx3 drawing holds colour (hints) rather than grey (lines and paper)."""
    channels = drawing.astype(np.int16)
    return channels.max(axis=2) - channels.min(axis=2) > HINT_SATURATION
