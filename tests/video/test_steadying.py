"""Steadying: a flickering translation of a moving clip becomes steadier, by the flicker score."""

from __future__ import annotations

import numpy as np
import pytest

from gan_style.evaluation.flicker import warping_errors
from gan_style.video.demo_clip import pan_and_zoom
from gan_style.video.steadying import Steadier


def flickering(frames: list[np.ndarray], seed: int = 0) -> list[np.ndarray]:
    """A stand-in for a translator that sees each frame alone: tones jump from frame to frame."""
    rng = np.random.default_rng(seed)
    return [
        np.clip(f.astype(np.float32) * rng.uniform(0.85, 1.15, 3), 0, 255).astype(np.uint8)
        for f in frames
    ]


def test_steadying_cuts_the_warping_error_and_keeps_the_first_frame(photo: np.ndarray) -> None:
    frames = pan_and_zoom(photo, 10, 96, 72)
    translated = flickering(frames)
    steadier = Steadier(0.6)
    steadied = [steadier(f, t) for f, t in zip(frames, translated, strict=True)]
    np.testing.assert_array_equal(steadied[0], translated[0])
    before = np.mean(warping_errors(frames, translated)[0])
    after = np.mean(warping_errors(frames, steadied)[0])
    assert after < 0.5 * before


def test_the_weight_must_leave_room_for_the_new_frame() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        Steadier(1.0)
