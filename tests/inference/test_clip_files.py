"""`translate` on video clips: a folder of clips and images, each kind handled as itself, every
bad clip named in one line with nothing under its name, the others translated."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_style.cli import main
from gan_style.evaluation.flicker import clip_flicker
from gan_style.inference.clip_files import write_clip_translations
from gan_style.video.clips import probe, read_frames
from gan_style.video.demo_clip import write_demo_clip
from tests.conftest import write_audio_only, write_images

av = pytest.importorskip("av")


def test_a_folder_of_clips_and_images_with_bad_clips_among_them(
    run_dir: Path, clip: Path, photo: np.ndarray, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    folder = clip.parent
    write_demo_clip(folder / "odd.mkv", photo, frames=1, width=33, height=25, audio=False)
    (folder / "notes.mp4").write_text("not a video")
    data = clip.read_bytes()
    (folder / "cut.mp4").write_bytes(data[: len(data) // 2])
    write_audio_only(folder / "tone.mp4")
    write_images(folder / "stills", 1)
    out = tmp_path / "out"
    (out / ".pan.mp4.1234.abcd.tmp").parent.mkdir()
    (out / ".pan.mp4.1234.abcd.tmp").write_bytes(b"left by a killed run")

    assert main(["translate", str(run_dir), str(folder), "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert "wrote 1 image(s) and 2 clip(s)" in captured.out
    skipped = [line for line in captured.err.splitlines() if line.startswith("skipped /")]
    assert len(skipped) == 3 and "skipped 3 file(s), each named above" in captured.err
    assert any("notes.mp4 as a video" in line for line in skipped)
    assert any("cut.mp4" in line and ("cut short" in line) for line in skipped)
    assert any("tone.mp4 has audio only" in line for line in skipped)
    made = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert made == ["odd.mkv", "pan.mp4", "stills/img_000.png"]
    assert (probe(out / "pan.mp4").frames, probe(out / "odd.mkv").width) == (24, 33)

    # The same command again refuses to overwrite, before any work.
    assert main(["translate", str(run_dir), str(clip), "--out", str(out)]) == 2
    assert "already exist" in capsys.readouterr().err


def test_steadied_clip_and_its_flicker_score(
    run_dir: Path, clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "out"
    args = ["translate", str(run_dir), str(clip), "--format", "mkv"]
    assert main([*args, "--out", str(out / "plain")]) == 0
    assert main([*args, "--out", str(out / "steady"), "--temporal"]) == 0
    plain = clip_flicker(out / "plain" / "pan.mkv", clip)
    steady = clip_flicker(out / "steady" / "pan.mkv", clip)
    assert steady.frames == 24 and steady.output < 0.7 * plain.output
    capsys.readouterr()
    assert main(["evaluate", str(out / "steady" / "pan.mkv"), "--clip", str(clip)]) == 0
    table = capsys.readouterr().out
    assert "warping error over 24 frames" in table and "input (the footage's own)" in table


def test_an_enlarger_writes_larger_frames_and_the_limit_counts_them(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    def doubled(images: list[np.ndarray]) -> list[np.ndarray]:
        return [image.repeat(2, axis=0).repeat(2, axis=1) for image in images]

    out = tmp_path / "out" / "pan.mp4"
    report = write_clip_translations(doubled, [(clip, out)], upscale=2, progress=False)
    assert report.written and (probe(out).width, probe(out).height) == (192, 144)
    big = tmp_path / "out" / "big.mp4"
    report = write_clip_translations(doubled, [(clip, big)], max_pixels=20000, upscale=2)
    assert not big.exists() and "above the limit of 0.02" in report.skipped[0][1]


@pytest.mark.parametrize(
    ("name", "fmt", "written"),
    [("a.mp4", "png", "a.mp4"), ("a.mov", "same", "a.mov"), ("a.flv", "png", "a.mp4"),
     ("a.mp4", "mkv", "a.mkv"), ("a.png", "mkv", "a.png"), ("a.gif", "same", "a.png")],
)  # fmt: skip
def test_each_kind_takes_the_format_that_is_its_own(name: str, fmt: str, written: str) -> None:
    """An image format applies to images and a container to clips; a clip in a container
    FFmpeg does not write here becomes MP4."""
    from gan_style.inference.files import output_names

    assert output_names([(Path(name), Path(name))], fmt) == [Path(written)]


def test_image_options_reach_the_frames(run_dir: Path, clip: Path, tmp_path: Path) -> None:
    """Tiles and the other direction apply to frames as to images: the first frame of each
    output is what that option makes of the first input frame as a still, within the codec's
    loss (compared in 8x8 means: the random network's fine texture does not survive H.264)."""

    def means(image: np.ndarray) -> np.ndarray:
        return image.reshape(9, 8, 12, 8, 3).mean(axis=(1, 3))

    stills = tmp_path / "stills"
    stills.mkdir()
    Image.fromarray(next(read_frames(clip)).image).save(stills / "pan.png")
    made = {}
    for options in ([], ["--tile", "64"], ["--direction", "BtoA"]):
        out = tmp_path / ("_".join(options).strip("-") or "plain")
        assert main(["translate", str(run_dir), str(clip), str(stills), "--out", str(out),
                     *options]) == 0  # fmt: skip
        frame = next(read_frames(out / "pan.mp4")).image
        still = np.asarray(Image.open(out / "pan.png"))
        assert np.abs(means(frame) - means(still)).mean() < 3
        made[out.name] = means(frame)
    assert np.abs(made["direction_BtoA"] - made["plain"]).mean() > 3
