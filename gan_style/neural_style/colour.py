"""Colour control for neural style transfer (Gatys et al. 2017, Controlling Perceptual Factors)."""

from __future__ import annotations

import numpy as np
from skimage.color import rgb2yiq, yiq2rgb
from skimage.exposure import match_histograms

from gan_style.neural_style.options import COLOUR_MODES

__all__ = ["COLOUR_MODES", "luminance_inputs", "match_colours", "recombine"]


def luminance_inputs(content: np.ndarray, style: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gray content and style (HxWx3 float in [0, 1]) for luminance-only transfer.

    The style's luminance is shifted and scaled to the content's mean and deviation, so the
    transferred strokes do not change the content's overall brightness.
    """
    y_content = rgb2yiq(content)[..., 0]
    y_style = rgb2yiq(style)[..., 0]
    y_style = (y_style - y_style.mean()) / (
        y_style.std() + 1e-8
    ) * y_content.std() + y_content.mean()
    gray = [np.repeat(np.clip(y, 0, 1)[..., None], 3, axis=2) for y in (y_content, y_style)]
    return gray[0], gray[1]


def recombine(output: np.ndarray, content: np.ndarray) -> np.ndarray:
    """The output's luminance with the content's chroma (YIQ's I and Q), as RGB in [0, 1]."""
    yiq = rgb2yiq(content)
    yiq[..., 0] = rgb2yiq(output)[..., 0]
    return np.clip(yiq2rgb(yiq), 0, 1)


def match_colours(style: np.ndarray, content: np.ndarray) -> np.ndarray:
    """The style image with its colour histogram matched to the content's, per channel."""
    return np.clip(match_histograms(style, content, channel_axis=-1), 0, 1)
