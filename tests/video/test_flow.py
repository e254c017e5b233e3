"""Optical flow, warping and forward-backward consistency on frames with a known motion."""

from __future__ import annotations

import numpy as np

from gan_style.video.flow import align, grey, warp


def shifted(photo: np.ndarray, dx: int) -> tuple[np.ndarray, np.ndarray]:
    """Two 96x96 views of the photo, the second with the content moved `dx` px to the right."""
    previous = np.ascontiguousarray(photo[40:136, 60:156])
    current = np.ascontiguousarray(photo[40:136, 60 - dx : 156 - dx])
    return previous, current


def test_a_known_shift_is_found_and_the_warp_rebuilds_the_frame(photo: np.ndarray) -> None:
    previous, current = shifted(photo, 3)
    alignment = align(grey(previous), grey(current))
    inside = alignment.reliable
    # Each current pixel was 3 px to its left in the previous frame.
    assert np.median(alignment.flow[..., 0][inside]) == pytest_approx(-3.0)
    assert np.abs(np.median(alignment.flow[..., 1][inside])) < 0.1
    # The columns that entered from outside the previous frame cannot be trusted.
    assert not inside[:, :3].any() and inside[:, 10:].mean() > 0.9
    rebuilt = warp(previous, alignment)
    error = np.abs(rebuilt - current.astype(np.float32))[inside].mean()
    assert error < 2.0  # grey levels, on the reliable pixels
    assert np.abs(previous.astype(np.float32) - current)[inside].mean() > 10 * error


def test_the_motion_scales_with_the_frame(photo: np.ndarray) -> None:
    previous, current = shifted(photo, 2)
    alignment = align(grey(previous), grey(current)).resized(192, 192)
    assert alignment.flow.shape == (192, 192, 2)
    assert np.median(alignment.flow[..., 0][alignment.reliable]) == pytest_approx(-4.0)


def pytest_approx(value: float):
    import pytest

    return pytest.approx(value, abs=0.25)
