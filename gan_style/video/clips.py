"""Video clips frame by frame with PyAV (FFmpeg's libraries): what a clip holds, its frames as
8-bit RGB arrays, and a translated clip written whole or not at all, with the source's timing
and its audio stream copied. Frames stream through, so memory does not grow with the clip's
length. Needs no PyTorch."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from gan_style.cpu import cpu_flags
from gan_style.disk import write_atomic
from gan_style.errors import DataError

VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".mpg", ".mpeg", ".ts",
                    ".mts", ".m2ts", ".flv", ".wmv", ".3gp", ".ogv")  # fmt: skip
# The container FFmpeg writes for each extension; a clip in any other is written as MP4.
MUXERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm",
          ".avi": "avi"}  # fmt: skip
# Audio codecs each container takes as they are; others are re-encoded by its encoder here
# (and at its sample rate, where the codec has few: Opus).
AUDIO_CODECS = {
    "mp4": ("aac", "mp3", "opus", "alac", "ac3", "flac"),
    "mov": ("aac", "mp3", "alac", "pcm_s16le"),
    "webm": ("opus", "vorbis"),
    "avi": ("mp3", "aac", "pcm_s16le", "ac3"),
}
AUDIO_ENCODERS = {"mp4": ("aac", None), "mov": ("aac", None), "webm": ("libopus", 48000),
                  "avi": ("libmp3lame", None)}  # fmt: skip
CRF = 17  # x264's constant quality: visually lossless, so the codec adds no artefacts of its own
# The same frames give the same file on every run: the muxer leaves out its random segment ids
# and dates (Matroska, WebM), and on CPUs with AVX-512, x264 keeps to its AVX2 code, whose
# output does not vary from run to run (its AVX-512 code's did, on an Intel Xeon, 2026-12-02).
BITEXACT = {"fflags": "+bitexact"}
INSTALL_HINT = "video needs PyAV: pip install 'gan-style[video]' (make install includes it)"


def is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_EXTENSIONS


def output_suffix(path: Path) -> str:
    """The extension a translation of the clip `path` keeps: its own where FFmpeg writes that
    container here, else .mp4."""
    suffix = path.suffix.lower()
    return suffix if suffix in MUXERS else ".mp4"


def find_videos(folder: str | Path) -> list[Path]:
    """Video files below `folder`, recursively, sorted."""
    return sorted(p for p in Path(folder).rglob("*") if is_video(p) and p.is_file())


def _av() -> Any:
    """PyAV, imported on first use (an extra), with FFmpeg's own log lines silenced: problems
    reach the user as one line of ours."""
    try:
        import av
    except ImportError:
        raise DataError(INSTALL_HINT) from None
    av.logging.set_level(None)
    return av


@dataclass(frozen=True)
class ClipInfo:
    """What `translate` needs to know of a clip before it reads a frame."""

    width: int  # as displayed: upright, after the clip's rotation
    height: int
    frames: int  # from the container's index; 0 where it keeps none
    rate: Fraction  # average frames per second
    duration: float  # seconds
    audio: bool  # whether it has an audio stream (copied to the translation)
    rotation: int = 0  # degrees counterclockwise the player turns the frames (phones: +-90)

    @property
    def pixels(self) -> int:
        return self.width * self.height


def _open(path: Path) -> Any:
    av = _av()
    try:
        container = av.open(str(path))
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as e:
        raise DataError(
            f"cannot read {path} as a video ({_reason(e)}): is it damaged, cut short or not a "
            f"video?"
        ) from None
    if not container.streams.video:
        what = "audio only" if container.streams.audio else "no video stream"
        container.close()
        raise DataError(f"{path} has {what}: give a clip with pictures")
    return container


def _reason(error: Exception) -> str:
    return str(getattr(error, "strerror", None) or error).strip().rstrip(".")


def probe(path: Path) -> ClipInfo:
    """A clip's size, frame count, rate and streams, from its header; a file FFmpeg cannot
    read, or one without pictures, is a `DataError` that says so."""
    container = _open(path)
    with container:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or Fraction(25)
        duration = float(stream.duration * stream.time_base) if stream.duration else 0.0
        if not duration and container.duration:
            duration = container.duration / 1_000_000
        rotation = _rotation(container, stream)
        width, height = stream.codec_context.width, stream.codec_context.height
        if rotation % 180:
            width, height = height, width
        return ClipInfo(
            width=width,
            height=height,
            frames=stream.frames,
            rate=Fraction(rate),
            duration=duration,
            audio=bool(container.streams.audio),
            rotation=rotation,
        )


def _rotation(container: Any, stream: Any) -> int:
    """The rotation the clip's display matrix asks for (a multiple of 90), read from its first
    frame; 0 where it cannot be decoded (reading the frames says why)."""
    try:
        frame = next(container.decode(stream), None)
    except _av().FFmpegError:
        return 0
    return round((frame.rotation if frame is not None else 0) / 90) * 90 % 360


def upright(image: np.ndarray, rotation: int) -> np.ndarray:
    """A decoded frame turned as a player shows it (`rotation` degrees counterclockwise)."""
    turns = rotation // 90 % 4
    return np.ascontiguousarray(np.rot90(image, turns)) if turns else image


@dataclass
class Frame:
    """One decoded picture and when it is shown."""

    image: np.ndarray  # H x W x 3, uint8 RGB
    pts: int | None  # time stamp in `time_base` units
    time_base: Fraction


def read_frames(path: Path) -> Iterator[Frame]:
    """The clip's frames in display order and upright (a phone's portrait clip turned as its
    player turns it), one at a time. A clip that breaks off, or holds fewer frames than its
    index promises, is a `DataError` after the last good frame."""
    av = _av()
    container = _open(path)
    with container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        count = 0
        try:
            for frame in container.decode(stream):
                count += 1
                image = upright(frame.to_ndarray(format="rgb24"), round(frame.rotation / 90) * 90)
                yield Frame(image, frame.pts, frame.time_base)
        except av.FFmpegError as e:
            raise DataError(
                f"{path} breaks off after {count} frame(s) ({_reason(e)}): it is damaged or cut "
                f"short"
            ) from None
        if count == 0 or (stream.frames and count < stream.frames):
            promised = f" of the {stream.frames} its index lists" if stream.frames else ""
            raise DataError(
                f"{path} ends after {count} frame(s){promised}: it is damaged or cut short"
            )


def _video_stream(out: Any, suffix: str, info: ClipInfo, time_base: Fraction) -> Any:
    """H.264 (VP9 for WebM) at constant visual quality; 4:4:4 chroma where a side is odd,
    since 4:2:0 needs even sides."""
    codec = "libvpx-vp9" if suffix == ".webm" else "libx264"
    stream = out.add_stream(codec, rate=info.rate)
    stream.width, stream.height = info.width, info.height
    odd = info.width % 2 or info.height % 2
    stream.pix_fmt = "yuv444p" if odd and codec == "libx264" else "yuv420p"
    stream.time_base = time_base
    stream.codec_context.time_base = time_base
    if codec == "libx264":
        stream.options = {"crf": str(CRF), "preset": "veryfast", **x264_instructions()}
    else:
        stream.options = {"crf": "20", "b": "0", "deadline": "realtime", "cpu-used": "8"}
    return stream


def x264_instructions() -> dict[str, str]:
    """x264's instruction sets capped at AVX2 on a CPU with AVX-512 (see BITEXACT); its own
    choice elsewhere."""
    return {"x264-params": "asm=avx2"} if "avx512f" in cpu_flags() else {}


class _AudioCopy:
    """The source's first audio stream into `out`, packet by packet as the pictures advance,
    so the two stay interleaved: copied unchanged where the container takes its codec,
    re-encoded to the container's own choice where not."""

    def __init__(self, source: Path, out: Any, muxer: str) -> None:
        self.container = _av().open(str(source))
        self.stream = self.container.streams.audio[0]
        self.out = out
        taken = AUDIO_CODECS.get(muxer)
        self.copy = taken is None or self.stream.codec_context.name in taken
        self.resampler = None
        if self.copy:
            self.target = out.add_stream_from_template(self.stream)
        else:
            encoder, rate = AUDIO_ENCODERS[muxer]
            rate = rate or self.stream.codec_context.sample_rate
            self.target = out.add_stream(encoder, rate=rate)
            self.target.layout = self.stream.codec_context.layout
            sample_format = self.target.codec_context.codec.audio_formats[0].name
            self.resampler = _av().AudioResampler(
                format=sample_format, layout=self.stream.codec_context.layout, rate=rate
            )
        self.packets = self.container.demux(self.stream)
        self.pending: Any = None
        self.done = False

    def until(self, seconds: float | None) -> None:
        """Write the audio that plays before `seconds` (None: all that is left)."""
        while not self.done:
            packet = self.pending or next(self.packets, None)
            self.pending = None
            if packet is None:
                self.done = True
                break
            if packet.dts is None:  # the demuxer's empty last packet
                continue
            timed = seconds is not None and packet.pts is not None
            if timed and float(packet.pts * packet.time_base) > seconds:
                self.pending = packet
                return
            self._write(packet)
        if self.done and not self.copy:
            self._encode(None)
            for encoded in self.target.encode(None):
                self.out.mux(encoded)

    def _write(self, packet: Any) -> None:
        if self.copy:
            packet.stream = self.target
            self.out.mux(packet)
            return
        for frame in packet.decode():
            self._encode(frame)

    def _encode(self, frame: Any) -> None:
        """`frame` (None: the resampler's rest) in the encoder's sample format and rate."""
        for resampled in self.resampler.resample(frame):
            resampled.pts = None
            for encoded in self.target.encode(resampled):
                self.out.mux(encoded)

    def close(self) -> None:
        self.container.close()


def write_clip(
    path: Path,
    frames: Iterable[Frame],
    info: ClipInfo,
    audio_from: Path | None = None,
    on_frame: Callable[[], object] | None = None,
    even: bool = False,
) -> int:
    """Encode `frames` (each keeps its time stamp, so rate, duration and uneven timing are the
    source's) into `path`, whole or not at all, with `audio_from`'s audio stream; with `even`,
    an odd side gets one more row or column (its edge repeated), so the clip is 4:2:0, which
    browsers play. The number of frames written."""
    av = _av()
    suffix = path.suffix.lower()
    written = 0
    pad = ((0, info.height % 2 * even), (0, info.width % 2 * even), (0, 0))
    if even:
        info = dataclasses.replace(info, width=info.width + pad[1][1],
                                   height=info.height + pad[0][1])  # fmt: skip

    def mux(f: BinaryIO) -> None:
        nonlocal written
        with av.open(f, mode="w", format=MUXERS[suffix], options=BITEXACT) as out:
            frames_iter = iter(frames)
            first = next(frames_iter, None)
            if first is None:
                return
            video = _video_stream(out, suffix, info, first.time_base)
            audio = _AudioCopy(audio_from, out, MUXERS[suffix]) if audio_from else None
            try:
                for frame in _chain(first, frames_iter):
                    image = np.pad(frame.image, pad, mode="edge") if even else frame.image
                    picture = av.VideoFrame.from_ndarray(image, format="rgb24")
                    picture.pts, picture.time_base = frame.pts, frame.time_base
                    if audio and frame.pts is not None:
                        audio.until(float(frame.pts * frame.time_base))
                    for packet in video.encode(picture):
                        out.mux(packet)
                    written += 1
                    if on_frame:
                        on_frame()
                for packet in video.encode(None):
                    out.mux(packet)
                if audio:
                    audio.until(None)
            finally:
                if audio:
                    audio.close()

    try:
        write_atomic(path, mux)
    except av.FFmpegError as e:
        raise DataError(f"cannot write {path} ({_reason(e)}); try another --format") from None
    return written


def _chain(first: Frame, rest: Iterator[Frame]) -> Iterator[Frame]:
    yield first
    yield from rest
