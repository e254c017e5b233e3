"""What a model must beat, scored beside it: for restoration data, the damaged input itself,
and for an enlarger, bicubic enlargement; for sketch data, image → drawing against a blank
page and the extractor at its default settings; drawing → image (colour filling) against the
drawing itself and a flat fill of the training images' mean colour, and where the drawings carry
colour hints, each hint's colour spread to the pixels nearest it."""

from __future__ import annotations

import cv2
import numpy as np
from scipy.ndimage import distance_transform_edt

from gan_style.config import Config, DataConfig
from gan_style.data.paired import find_pairs
from gan_style.data.sketch import hint_mask, line_drawing
from gan_style.image_io import load_readable

MEAN_COLOUR_IMAGES = 64  # training images averaged for the flat fill


def baselines(cfg: Config, inputs: list[np.ndarray]) -> dict[str, list[np.ndarray]]:
    """{name: an output per held-out input} for `cfg`'s data; {} where there is none."""
    if cfg.data.dataset_mode == "restoration":
        if cfg.model.upscale > 1:
            return {"bicubic enlargement": [enlarged(i, cfg.model.upscale) for i in inputs]}
        return {"the damaged input": list(inputs)}
    if cfg.data.dataset_mode != "sketch":
        return {}
    if cfg.data.direction == "AtoB":  # image -> drawing
        default = DataConfig()
        return {
            "blank page": [np.full_like(image, 255) for image in inputs],
            "XDoG at default settings": [
                line_drawing(image, default.sketch_thickness, default.sketch_threshold)
                for image in inputs
            ],
        }
    colour = mean_colour(cfg.data)
    found = {
        "the drawing itself": list(inputs),
        "flat mean-colour fill": [
            np.broadcast_to(colour, image.shape).astype(np.uint8) for image in inputs
        ],
    }
    if cfg.data.sketch_hints:
        found["hints spread to the nearest"] = [nearest_hint_fill(i, colour) for i in inputs]
    return found


def enlarged(image: np.ndarray, factor: int) -> np.ndarray:
    """Bicubic interpolation `factor` times larger: what an enlarger must beat."""
    h, w = image.shape[:2]
    out = cv2.resize(image, (w * factor, h * factor), interpolation=cv2.INTER_CUBIC)
    return out if out.ndim == 3 else out[:, :, None]


def nearest_hint_fill(drawing: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Every pixel in the colour of the hint nearest to it (`sketch.hint_mask`), the drawing's
    lines kept on top; `fallback` everywhere where the drawing has no hint."""
    hints = hint_mask(drawing) if drawing.shape[2] == 3 else np.zeros(drawing.shape[:2], bool)
    if not hints.any():
        filled = np.broadcast_to(fallback, drawing.shape).astype(np.uint8)
    else:
        _, (rows, cols) = distance_transform_edt(~hints, return_indices=True)
        filled = drawing[rows, cols]
    return np.minimum(filled, drawing.max(axis=2, keepdims=True))  # ink stays dark


def mean_colour(data: DataConfig) -> np.ndarray:
    """The mean colour (per channel, 0-255) of the first training images, as loaded."""
    images = [first for first, _ in find_pairs(data, "train")]
    _, loaded = load_readable(images[:MEAN_COLOUR_IMAGES], data.channels)
    return np.rint(np.mean([image.reshape(-1, image.shape[2]).mean(0) for image in loaded], 0))
