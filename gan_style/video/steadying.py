"""Steadier translated frames: each output is blended with the previous (steadied) output,
warped along the input's optical flow, wherever that warp is reliable. A frame translated on
its own flickers (tones and textures shift from frame to frame); the warped previous output
holds them in place, and occlusions, where the warp cannot be trusted, take the new output
alone. A simple recurrent form of the blending used by Lai et al. 2018 ("Learning blind video
temporal consistency") and Ruder et al. 2016."""

from __future__ import annotations

import numpy as np

from gan_style.video.flow import align, grey, warp

WEIGHT = 0.6  # share of the warped previous output kept where the flow is reliable


class Steadier:
    """Feed it each (input frame, translated frame) in order; it returns the steadied frame."""

    def __init__(self, weight: float = WEIGHT) -> None:
        if not 0.0 <= weight < 1.0:
            raise ValueError(f"the steadying weight must be in [0, 1), not {weight}")
        self.weight = weight
        self.previous_grey: np.ndarray | None = None
        self.previous_output: np.ndarray | None = None  # float32: no rounding builds up

    def __call__(self, source: np.ndarray, translated: np.ndarray) -> np.ndarray:
        current_grey = grey(source)
        output = translated.astype(np.float32)
        same_size = self.previous_output is not None and self.previous_output.shape == output.shape
        if self.previous_grey is not None and same_size and self.weight > 0:
            moved = align(self.previous_grey, current_grey).resized(*output.shape[:2])
            warped = warp(self.previous_output, moved)
            kept = moved.reliable.astype(np.float32) * self.weight
            kept = kept[..., None] if output.ndim == 3 else kept
            output = kept * warped + (1.0 - kept) * output
        self.previous_grey, self.previous_output = current_grey, output
        return np.clip(np.rint(output), 0, 255).astype(np.uint8)
