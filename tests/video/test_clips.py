"""Reading and writing clips: timing, size, frame count and audio kept; bad files refused in
one line with nothing left under the final name."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from gan_style.errors import DataError
from gan_style.video import clips
from gan_style.video.clips import Frame, probe, read_frames, write_clip
from gan_style.video.demo_clip import write_demo_clip
from tests.conftest import write_audio_only

av = pytest.importorskip("av")


def audio_samples(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)


def inverted(path: Path) -> Iterator[Frame]:
    return (Frame(255 - f.image, f.pts, f.time_base) for f in read_frames(path))


def test_probe_reads_the_header(clip: Path) -> None:
    info = probe(clip)
    assert (info.width, info.height, info.frames, info.rate) == (96, 72, 24, Fraction(12))
    assert info.duration == pytest.approx(2.0) and info.audio


def test_a_written_clip_keeps_rate_size_frames_duration_and_the_audio_samples(
    clip: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out" / "pan.mp4"
    assert write_clip(out, inverted(clip), probe(clip), audio_from=clip) == 24
    assert probe(out) == probe(clip)
    np.testing.assert_array_equal(audio_samples(out), audio_samples(clip))
    source, written = next(read_frames(clip)).image, next(read_frames(out)).image
    # Inverted, and through the codec at visually lossless quality: within a few grey levels.
    assert np.abs(written.astype(int) - (255 - source.astype(int))).mean() < 3


def test_odd_sides_and_a_single_frame_keep_their_size_or_become_even_for_browsers(
    tmp_path: Path, photo: np.ndarray
) -> None:
    odd = tmp_path / "odd.mp4"
    write_demo_clip(odd, photo, frames=1, width=63, height=47, audio=False)
    out = tmp_path / "out" / "odd.mp4"
    write_clip(out, inverted(odd), probe(odd))
    info = probe(out)
    assert (info.width, info.height, info.frames, info.audio) == (63, 47, 1, False)
    # For a browser (the page): one more row and column, the edge repeated, and 4:2:0 chroma.
    playable = tmp_path / "out" / "playable.mp4"
    write_clip(playable, inverted(odd), probe(odd), even=True)
    with av.open(str(playable)) as container:
        assert container.streams.video[0].codec_context.pix_fmt == "yuv420p"
    frame = next(read_frames(playable)).image
    assert frame.shape == (48, 64, 3)
    assert np.abs(frame[-1].astype(int) - frame[-2]).mean() < 3  # the repeated edge


def test_uneven_frame_times_are_kept(tmp_path: Path, photo: np.ndarray) -> None:
    """A variable-frame-rate clip: each frame keeps its own time stamp."""
    steady = tmp_path / "steady.mp4"
    write_demo_clip(steady, photo, frames=8, audio=False)
    base = Fraction(1, 1000)
    gaps = [0, 40, 120, 160, 300, 340, 500, 540]  # ms
    uneven = [Frame(f.image, t, base) for f, t in zip(read_frames(steady), gaps, strict=True)]
    vfr = tmp_path / "vfr.mkv"
    write_clip(vfr, uneven, probe(steady))
    out = tmp_path / "out" / "vfr.mkv"
    write_clip(out, inverted(vfr), probe(vfr))
    assert [f.pts * f.time_base for f in read_frames(out)] == [Fraction(t, 1000) for t in gaps]


def test_an_audio_only_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tone.mp4"
    write_audio_only(path)
    with pytest.raises(DataError, match=r"tone.mp4 has audio only: give a clip with pictures"):
        probe(path)


def test_a_file_that_is_not_a_video_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("shopping list\n")
    with pytest.raises(DataError, match=r"cannot read .*notes.mp4 as a video .*not a video\?$"):
        probe(path)


def test_a_truncated_clip_is_refused_and_nothing_is_left(clip: Path, tmp_path: Path) -> None:
    """Cut short after the index (FFmpeg writes it at the end unless moved): either the file
    does not open, or it breaks off; no partial output either way."""
    cut = tmp_path / "cut.mp4"
    data = clip.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    out = tmp_path / "out" / "cut.mp4"
    with pytest.raises(DataError, match=r"cut.mp4 .*(damaged|cut short)"):
        write_clip(out, inverted(cut), probe(clip))
    assert not out.parent.exists() or list(out.parent.iterdir()) == []


def test_a_clip_that_breaks_off_mid_way_leaves_no_file(clip: Path, tmp_path: Path) -> None:
    """The same as a run killed mid-clip (Ctrl-C): the final name is never half-written."""

    def stops(path: Path):
        for i, frame in enumerate(read_frames(path)):
            if i == 5:
                raise KeyboardInterrupt
            yield frame

    out = tmp_path / "out" / "pan.mp4"
    with pytest.raises(KeyboardInterrupt):
        write_clip(out, stops(clip), probe(clip), audio_from=clip)
    assert list(out.parent.iterdir()) == []


def test_without_pyav_the_line_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_av(name: str, *args, **kwargs):
        if name == "av":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_av)
    with pytest.raises(DataError, match=r"pip install 'gan-style\[video\]'"):
        clips._av()


def test_a_phone_clip_is_turned_upright_and_written_upright(tmp_path: Path) -> None:
    """A portrait clip stored sideways with a display rotation (as phones record) is read as
    its player shows it, so the network sees it upright, and written upright without one."""
    path = tmp_path / "phone.mp4"
    sideways = np.zeros((32, 48, 3), np.uint8)
    sideways[:, :24] = 255  # the stored frame's left half is white
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 48, 32, "yuv420p"
        stream.set_display_rotation(90)  # the player turns it a quarter counterclockwise
        for packet in [*stream.encode(av.VideoFrame.from_ndarray(sideways, format="rgb24")),
                       *stream.encode(None)]:  # fmt: skip
            out.mux(packet)
    info = probe(path)
    assert (info.width, info.height, info.rotation) == (32, 48, 90)
    shown = next(read_frames(path)).image
    assert shown.shape == (48, 32, 3)
    assert shown[36:].mean() > 200 and shown[:12].mean() < 50  # the white half is at the bottom
    out = tmp_path / "out" / "phone.mp4"
    write_clip(out, read_frames(path), info)
    assert (probe(out).width, probe(out).height, probe(out).rotation) == (32, 48, 0)


def test_a_clip_cut_short_after_its_index_breaks_off_in_one_line(
    tmp_path: Path, photo: np.ndarray
) -> None:
    """With the index at the front (`faststart`, as for the web) a cut-short file opens, and
    its frames end early: named after the last good frame, nothing written."""
    from gan_style.video.demo_clip import pan_and_zoom

    whole = tmp_path / "fast.mp4"
    with av.open(str(whole), "w", options={"movflags": "faststart"}) as out:
        stream = out.add_stream("libx264", rate=12)
        stream.width, stream.height, stream.pix_fmt = 96, 72, "yuv420p"
        for view in pan_and_zoom(photo, 24, 96, 72):
            for packet in stream.encode(av.VideoFrame.from_ndarray(view, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: int(whole.stat().st_size * 0.6)])
    assert probe(cut).frames == 24  # the index is whole
    out = tmp_path / "out" / "cut.mp4"
    with pytest.raises(DataError, match=r"cut.mp4 ends after \d+ frame\(s\) of the 24 its index"):
        write_clip(out, inverted(cut), probe(cut))
    assert not out.exists() and list(out.parent.iterdir()) == []


def test_webm_gets_vp9_and_the_audio_re_encoded_to_opus(clip: Path, tmp_path: Path) -> None:
    """WebM cannot hold the source's AAC: the sound is re-encoded (Opus at 48 kHz), as long."""
    out = tmp_path / "out" / "pan.webm"
    assert write_clip(out, inverted(clip), probe(clip), audio_from=clip) == 24
    with av.open(str(out)) as container:
        codecs = [(s.type, s.codec_context.name) for s in container.streams]
    assert codecs == [("video", "vp9"), ("audio", "opus")]
    assert len(list(read_frames(out))) == 24
    assert audio_samples(out).shape[1] / 48000 == pytest.approx(2.0, abs=0.1)


@pytest.mark.parametrize("suffix", [".mp4", ".webm", ".mkv"])
def test_the_same_frames_give_the_same_file_every_time(
    clip: Path, tmp_path: Path, suffix: str
) -> None:
    """Writing is repeatable: no random container ids or dates, and no encoder code that varies
    from run to run (x264's AVX-512 code did on an AVX-512 Xeon: `x264_instructions`)."""
    frames = list(inverted(clip))
    written = []
    for i in range(4):
        target = tmp_path / f"{i}{suffix}"
        write_clip(target, frames, probe(clip), clip)
        written.append(target.read_bytes())
    assert all(data == written[0] for data in written[1:])


def test_x264_keeps_to_avx2_only_where_the_cpu_has_avx512(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clips, "cpu_flags", lambda: frozenset({"avx2", "avx512f"}))
    assert clips.x264_instructions() == {"x264-params": "asm=avx2"}
    monkeypatch.setattr(clips, "cpu_flags", lambda: frozenset({"avx2"}))
    assert clips.x264_instructions() == {}
