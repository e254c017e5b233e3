"""The flicker score: the warping error equals a hand computation where the motion is known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gan_style.errors import DataError
from gan_style.evaluation.flicker import clip_flicker, warping_errors
from gan_style.video.clips import Frame, probe, read_frames, write_clip


def test_still_footage_gives_the_plain_squared_difference() -> None:
    """Frames that do not move: the flow is zero everywhere, so the warping error is the mean
    squared difference of consecutive outputs, and the input's own is zero."""
    rng = np.random.default_rng(0)
    still = (rng.random((48, 64, 3)) * 255).astype(np.uint8)
    outputs = [np.full((48, 64, 3), level, np.uint8) for level in (100, 110, 100)]
    translated, own = warping_errors([still] * 3, outputs)
    assert translated == pytest.approx([(10 / 255) ** 2] * 2, rel=1e-5)
    assert own == [0.0, 0.0]


def test_an_enlarged_output_is_compared_along_the_enlarged_motion() -> None:
    rng = np.random.default_rng(1)
    still = (rng.random((24, 32, 3)) * 255).astype(np.uint8)
    outputs = [np.full((48, 64, 3), level, np.uint8) for level in (50, 60)]
    translated, _ = warping_errors([still] * 2, outputs)
    assert translated == pytest.approx([(10 / 255) ** 2], rel=1e-5)


def test_clips_of_different_lengths_are_refused(clip: Path, tmp_path: Path) -> None:
    short = tmp_path / "short.mp4"
    frames = (f for i, f in enumerate(read_frames(clip)) if i < 5)
    write_clip(short, (Frame(f.image, f.pts, f.time_base) for f in frames), probe(clip))
    with pytest.raises(DataError, match="different numbers of frames"):
        clip_flicker(short, clip)
    same = clip_flicker(clip, clip)
    assert same.output == pytest.approx(same.input) and same.frames == 24
