"""`make bench`'s video rows: a clip through `translate` without and with `--temporal`, and the
Live tab's frame rate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gan_style.video_bench import clip_row, live_row

pytestmark = pytest.mark.slow
pytest.importorskip("av")


def test_clip_and_live_rows(run_dir: Path, photo: np.ndarray) -> None:
    row = clip_row(run_dir, photo, 48, seconds=1.0, fps=12)
    assert row["size"] == "64x48" and row["frames"] == 12
    assert row["plain_fps"] > 0 and row["temporal_peak_mib"] > 0
    assert row["rate_size_frames_duration_kept"] and row["audio_samples_equal"]
    assert row["warping_error_temporal"] < row["warping_error_plain"]
    assert 0 < row["least_ssim_temporal_vs_plain"] <= 1
    live = live_row(run_dir, photo, 64, frames=3)
    assert live["kind"] == "video_live" and live["fps"] > 0
