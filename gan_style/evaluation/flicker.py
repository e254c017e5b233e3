"""The flicker of a translated clip: its warping error (Lai et al. 2018, "Learning blind video
temporal consistency"), the mean squared difference between each output frame and the previous
output frame warped along the input's optical flow, over the pixels the flow can follow
(occlusions left out). The same number for the input clip is the motion's own floor: a
translation cannot be steadier than the footage."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gan_style.errors import DataError
from gan_style.video.clips import read_frames
from gan_style.video.flow import Alignment, align, grey, warp


def warping_errors(
    inputs: Iterable[np.ndarray], outputs: Iterable[np.ndarray]
) -> tuple[list[float], list[float]]:
    """Per consecutive pair of frames, for the outputs and for the inputs themselves: the mean
    squared difference (0-1 values) after the warp along the inputs' flow, on the reliable
    pixels. `outputs` may be larger than `inputs` (an enlarger). Frames stream through."""
    translated: list[float] = []
    own: list[float] = []
    previous = None  # (grey input, input, output), as floats
    for source, output in zip(inputs, outputs, strict=True):
        current = (grey(source), source.astype(np.float32) / 255, output.astype(np.float32) / 255)
        if previous is not None:
            alignment = align(previous[0], current[0])
            own.append(_error(previous[1], current[1], alignment))
            translated.append(_error(previous[2], current[2], alignment))
        previous = current
    return translated, own


def _error(previous: np.ndarray, current: np.ndarray, alignment: Alignment) -> float:
    moved = alignment.resized(*current.shape[:2])  # once: `warp` keeps a fitting alignment
    squared = (current - warp(previous, moved)) ** 2
    squared = squared.mean(axis=2) if squared.ndim == 3 else squared
    return float(squared[moved.reliable].mean()) if moved.reliable.any() else 0.0


@dataclass(frozen=True)
class Flicker:
    output: float  # the translated clip's mean warping error
    input: float  # the input clip's: the floor set by the footage itself
    frames: int


def clip_flicker(output: Path, source: Path) -> Flicker:
    """The warping error of the translated clip `output` and of its input clip `source`, both
    along the input's flow."""
    try:
        translated, own = warping_errors(
            (f.image for f in read_frames(source)), (f.image for f in read_frames(output))
        )
    except ValueError:
        raise DataError(
            f"{output} and {source} hold different numbers of frames: give the clip {output} "
            f"was translated from"
        ) from None
    return Flicker(_mean(translated), _mean(own), len(translated) + 1)


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else 0.0
