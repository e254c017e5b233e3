"""The page's moving pictures: an uploaded clip comes back translated with its sound, a long or
broken one is named in one line, and camera frames are translated at the chosen size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gan_style.app.clips import live_frame, translate_clip
from gan_style.app.handlers import ModelCache
from gan_style.app.outputs import OutputFolders
from gan_style.inference.options import TranslateOptions
from gan_style.inference.translate_files import translate_files
from gan_style.video.clips import probe, read_frames

pytest.importorskip("av")


@pytest.fixture
def models(run_dir: Path) -> ModelCache:
    return ModelCache([run_dir])


def test_a_clip_comes_back_as_translate_makes_it(
    models: ModelCache, run_dir: Path, clip: Path, tmp_path: Path
) -> None:
    label = next(iter(models.sources))
    result = translate_clip(models, str(clip), label, steady=True,
                            outputs=OutputFolders(tmp_path / "served"))  # fmt: skip
    assert result.message.splitlines() == ["translated 24 frame(s)"]
    made = Path(result.downloads[0])
    assert made.suffix == ".mp4" and probe(made) == probe(clip)
    options = TranslateOptions(temporal=True, format="mp4", progress=False)
    translate_files(run_dir, [clip], tmp_path / "cli", options)
    for ours, theirs in zip(read_frames(made), read_frames(tmp_path / "cli" / "pan.mp4"),
                            strict=True):  # fmt: skip
        np.testing.assert_array_equal(ours.image, theirs.image)


def test_long_broken_or_missing_clips_get_one_line(
    models: ModelCache, clip: Path, tmp_path: Path
) -> None:
    label = next(iter(models.sources))
    served = OutputFolders(tmp_path / "served")
    long = translate_clip(models, str(clip), label, outputs=served, max_seconds=1.0)
    assert long.message == (
        "the clip is 2 s long; the page takes clips up to 1 s: translate longer ones with "
        "gan-style translate"
    )
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00" * 100)
    message = translate_clip(models, str(broken), label, outputs=served).message
    assert message.startswith("cannot read broken.mp4 as a video") and "\n" not in message
    assert translate_clip(models, None, label).message == "upload a clip first"


def test_live_frames_are_translated_at_the_chosen_size(
    models: ModelCache, photo: np.ndarray
) -> None:
    label = next(iter(models.sources))
    camera = np.ascontiguousarray(photo[:240, :256])
    small = live_frame(models, camera, label, 128)
    assert small.shape == (128, 137, 3) and small.dtype == np.uint8
    assert live_frame(models, camera, label, 256).shape == (256, 273, 3)
    assert live_frame(models, None, label) is None


def test_live_frames_steadied_per_visitor(models: ModelCache, photo: np.ndarray) -> None:
    """With a steadier, the first frame is the plain translation and the next ones are
    blended with the last along the camera's motion."""
    from gan_style.video.demo_clip import pan_and_zoom
    from gan_style.video.steadying import Steadier

    label = next(iter(models.sources))
    camera = pan_and_zoom(photo, 24, 320, 240)[:3]  # a slow pan: the flow can follow it
    steadier = Steadier()
    plain = [live_frame(models, frame, label, 128) for frame in camera]
    steadied = [live_frame(models, frame, label, 128, steadier) for frame in camera]
    np.testing.assert_array_equal(steadied[0], plain[0])
    assert steadied[2].shape == plain[2].shape == (128, 171, 3)
    assert np.abs(steadied[2].astype(int) - plain[2]).mean() > 0.5
