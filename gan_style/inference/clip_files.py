"""The user's video clips through a translator, frame by frame: each clip is written whole
under its final name or not at all, with the source's frame rate, size (times an enlarger's
factor), frame count, timing and audio; a clip that cannot be read is named with the reason
and the others are still translated. Needs no PyTorch."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from gan_style.errors import DataError, DiskFullError
from gan_style.image_io import convert_image
from gan_style.inference.files import Report, Written
from gan_style.video.clips import ClipInfo, Frame, probe, read_frames, write_clip
from gan_style.video.steadying import Steadier

Translate = Callable[[list[np.ndarray]], list[np.ndarray]]


def write_clip_translations(
    translate: Translate,
    pairs: list[tuple[Path, Path]],
    channels: int = 3,
    max_pixels: int | None = None,
    steadying: float | None = None,
    progress: bool = True,
    description: str = "translate",
    upscale: int = 1,
    even_sides: bool = False,
) -> Report:
    """Translate each (input clip, output clip) pair, frames in order; with `steadying` (a
    weight, see `video/steadying.py`) each frame is blended with the previous one along the
    input's optical flow; with `even_sides`, odd sides grow by a pixel (`write_clip`)."""
    report = Report()
    for path, target in pairs:
        try:
            info = _checked(path, max_pixels, upscale)
            for stale in target.parent.glob(f".{target.name}.*.tmp"):
                stale.unlink()  # left by a run that was killed mid-clip: this one starts over
            gaps: set[int] = set()
            bar = tqdm(
                total=info.frames or None, unit="frame", desc=f"{description} {path.name}",
                disable=not progress, leave=False,
            )  # fmt: skip
            with bar:
                out_info = dataclasses.replace(
                    info, width=info.width * upscale, height=info.height * upscale
                )
                frames = _translated(path, translate, channels, steadying, gaps)
                audio = path if info.audio else None
                write_clip(target, frames, out_info, audio, bar.update, even_sides)
            if len(gaps) > 1 and max(gaps) > 1.5 * min(gaps):
                tqdm.write(f"note: {path} has a variable frame rate; each frame kept its time "
                           f"stamp", file=sys.stderr)  # fmt: skip
        except DiskFullError:
            raise
        except (DataError, OSError) as e:
            report.skipped.append((path, str(e)))
            tqdm.write(f"skipped {path}: {e}", file=sys.stderr)
            continue
        report.written.append(Written(path, target))
    return report


def _checked(path: Path, max_pixels: int | None, upscale: int) -> ClipInfo:
    info = probe(path)
    output = info.pixels * upscale * upscale
    if max_pixels and output > max_pixels:
        raise DataError(
            f"its frames would be {output / 1e6:.2g} megapixels, above the limit of "
            f"{max_pixels / 1e6:g}; raise --max-megapixels"
        )
    return info


def _translated(
    path: Path, translate: Translate, channels: int, steadying: float | None, gaps: set[int]
) -> Iterator[Frame]:
    """The clip's frames translated (and steadied), one at a time; the gaps between their time
    stamps are collected in `gaps`."""
    steadier = Steadier(steadying) if steadying else None
    previous = None
    for frame in read_frames(path):
        if frame.pts is not None and previous is not None:
            gaps.add(frame.pts - previous)
        previous = frame.pts
        image = frame.image if channels == 3 else convert_image(Image.fromarray(frame.image), 1)
        output = translate([image])[0]
        if output.ndim == 3 and output.shape[2] == 1:
            output = np.repeat(output, 3, axis=2)  # video frames are colour
        if steadier is not None:
            output = steadier(frame.image, output)
        yield Frame(np.ascontiguousarray(output), frame.pts, frame.time_base)
