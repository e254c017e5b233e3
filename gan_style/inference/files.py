"""The user's image files and folders: which outputs a run will write (refusing, before any
work, what would overwrite or mix with the inputs), and reading, translating and writing them,
so that every readable file is written and each unreadable one is reported and skipped.
Needs no PyTorch."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from gan_style.disk import check_writable
from gan_style.errors import DataError, DiskFullError
from gan_style.image_io import (
    IMAGE_EXTENSIONS,
    MAX_PIXELS,
    find_images,
    header_pixels,
    read_image,
    save_pil,
    to_pil,
)
from gan_style.runtime.lanes import map_in_lanes
from gan_style.video.clips import VIDEO_EXTENSIONS, find_videos, is_video, output_suffix

IMAGE_FORMATS = {"png": ".png", "jpg": ".jpg", "webp": ".webp"}
VIDEO_FORMATS = {"mp4": ".mp4", "mkv": ".mkv", "mov": ".mov", "webm": ".webm"}
# An image format applies to images (clips keep their container), a container to clips
# (images become PNG); `same` keeps each input's own.
FORMATS = {**IMAGE_FORMATS, **VIDEO_FORMATS, "same": None}
JPEG_QUALITY = 95  # with 4:4:4 chroma: colours stay as sharp as the luminance


@dataclass
class Written:
    source: Path
    path: Path


@dataclass
class Report:
    """What a run over files did: the files written and those skipped, with the reason."""

    written: list[Written] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def input_files(inputs: list[Path]) -> list[tuple[Path, Path]]:
    """(file, output name) for files and folders (recursive: images and video clips); names
    keep folder structure."""
    files: list[tuple[Path, Path]] = []
    for item in inputs:
        if item.is_dir():
            found = sorted(find_images(item) + find_videos(item))
            if not found:
                kinds = ", ".join(IMAGE_EXTENSIONS + VIDEO_EXTENSIONS)
                raise DataError(f"no images or video clips ({kinds}) in {item}")
            files += [(p, p.relative_to(item)) for p in found]
        elif item.is_file():
            files.append((item, Path(item.name)))
        else:
            raise DataError(f"input {item} not found")
    return files


def check_output_folder(inputs: list[Path], out: Path) -> None:
    """Refuse an output folder that is an input folder, lies inside one, or holds an input:
    translations would mix with the originals, or replace them."""
    if out.exists() and not out.is_dir():
        raise DataError(f"--out {out} is a file; give a folder for the translations")
    target = out.resolve()
    for item in inputs:
        source = item.resolve()
        if (item.is_dir() and target.is_relative_to(source)) or source.is_relative_to(target):
            raise DataError(
                f"--out {out} overlaps the input {item}; write the translations to a folder of "
                f"their own, outside the inputs"
            )


def output_names(files: list[tuple[Path, Path]], fmt: str) -> list[Path]:
    """Each input's output name in `fmt` (`same`: the input's own extension); two inputs that
    would be written to the same name are an error."""
    if fmt not in FORMATS:
        raise DataError(f"unknown output format '{fmt}'; choose {', '.join(FORMATS)}")
    names = [name.with_suffix(_suffix(name, fmt)) for _, name in files]
    seen: dict[Path, Path] = {}
    for (path, _), name in zip(files, names, strict=True):
        if name in seen:
            raise DataError(
                f"{path} and {seen[name]} would both be written as {name}; translate them apart"
            )
        seen[name] = path
    return names


def _suffix(name: Path, fmt: str) -> str:
    """The output's extension: `fmt` where it is of the input's kind, else the kind's default
    (a clip keeps its container, an image becomes PNG)."""
    if is_video(name):
        return VIDEO_FORMATS.get(fmt) or output_suffix(name)
    return IMAGE_FORMATS.get(fmt) or (_same(name.suffix) if fmt == "same" else ".png")


def _same(suffix: str) -> str:
    """`--format same`: the input's format, except GIF (256 colours), which becomes PNG."""
    return ".png" if suffix.lower() == ".gif" else suffix.lower()


def save_translation(
    image: np.ndarray, path: Path, quality: int | None = None, icc_profile: bytes | None = None
) -> None:
    """Write in the format of `path`'s extension, whole or not at all: PNG and TIFF lossless;
    WebP lossless unless a `quality` is given; JPEG at `quality` (95) without chroma
    subsampling. The input's colour profile is kept."""
    pil = to_pil(image)
    options: dict = {"icc_profile": icc_profile} if icc_profile else {}
    suffix = path.suffix.lower()
    if suffix in (".jpg", ".jpeg"):
        options |= {"quality": quality or JPEG_QUALITY, "subsampling": 0}
    elif suffix == ".webp":
        options |= {"quality": quality} if quality else {"lossless": True}
    save_pil(pil, path, **options)


def planned_outputs(
    inputs: list[Path],
    out: Path,
    fmt: str = "png",
    overwrite: bool = False,
    skip_existing: bool = False,
) -> list[tuple[Path, Path]]:
    """(input file, output file) for every input image; refuses, before any work, a missing
    input, an output folder that overlaps the inputs or cannot be written, and outputs that
    exist already (or, with `skip_existing`, leaves those inputs out)."""
    files = input_files(inputs)  # first: a missing input is named as such
    check_output_folder(inputs, out)
    check_writable(out)
    targets = [out / name for name in output_names(files, fmt)]
    existing = {t for t in targets if t.exists()}
    if existing and skip_existing:
        tqdm.write(f"kept {len(existing)} existing output(s) in {out}", file=sys.stderr)
    elif existing and not overwrite:
        more = f" and {len(existing) - 3} more" if len(existing) > 3 else ""
        shown = ", ".join(str(t) for t in sorted(existing)[:3])
        raise DataError(
            f"{shown}{more} already exist; pass --overwrite, --skip-existing or another --out"
        )
    return [
        (path, target)
        for (path, _), target in zip(files, targets, strict=True)
        if not (skip_existing and target in existing)
    ]


def largest_pixels(pairs: list[tuple[Path, Path]]) -> int:
    """The largest input image's pixel count, from the file headers (lanes suit small images
    only)."""
    return max((header_pixels(path) for path, _ in pairs if not is_video(path)), default=0)


def split_clips(
    pairs: list[tuple[Path, Path]],
) -> tuple[list[tuple[Path, Path]], list[tuple[Path, Path]]]:
    """(image pairs, video clip pairs): each kind is read and written as itself."""
    clips = [pair for pair in pairs if is_video(pair[0])]
    return [pair for pair in pairs if not is_video(pair[0])], clips


def _within_output_limit(
    pairs: list[tuple[Path, Path]], upscale: int, max_pixels: int, report: Report
) -> list[tuple[Path, Path]]:
    kept = []
    for path, target in pairs:
        output = header_pixels(path) * upscale * upscale
        if output <= max_pixels:
            kept.append((path, target))
            continue
        problem = (
            f"enlarged {upscale} times it would be {output / 1e6:.2g} megapixels, above the "
            f"limit of {max_pixels / 1e6:g}; raise --max-megapixels or shrink the image"
        )
        report.skipped.append((path, problem))
        print(f"skipped {path}: {problem}", file=sys.stderr)
    return kept


def write_translations(
    translate: Callable[[list[np.ndarray]], list[np.ndarray]],
    pairs: list[tuple[Path, Path]],
    channels: int = 3,
    batch_size: int = 1,
    lanes: int = 1,
    quality: int | None = None,
    max_pixels: int | None = MAX_PIXELS,
    progress: bool = True,
    description: str = "translate",
    torch_threads: bool = True,
    upscale: int = 1,
) -> Report:
    """Read, `translate` and write the (input, output) pairs, `batch_size` images per call and
    `lanes` calls in flight, in order. Unreadable files are reported on stderr and skipped;
    the others are all written. An enlarger's (`upscale` > 1) inputs whose output would pass
    `max_pixels` are named and left out before any work starts."""
    report = Report()
    if upscale > 1 and max_pixels:
        pairs = _within_output_limit(pairs, upscale, max_pixels, report)

    def translate_chunk(chunk: list[tuple[Path, Path]]) -> list[tuple[Path, Path, str | None]]:
        """Read, translate and write some files; (input, output, why it was skipped or None)."""
        done: list[tuple[Path, Path, str | None]] = []
        read = []  # (path, target, colour profile), image
        for path, target in chunk:
            try:
                image, profile = read_image(path, channels, max_pixels)
            except DataError as e:
                done.append((path, target, str(e)))
                continue
            read.append(((path, target, profile), image))
        outputs = translate([image for _, image in read]) if read else []
        for ((path, target, profile), _), output in zip(read, outputs, strict=True):
            try:
                save_translation(output, target, quality, profile)
            except DiskFullError:
                raise  # the next file would not fit either: the run stops
            except OSError as e:
                done.append((path, target, f"cannot write {target}: {e}"))
                continue
            done.append((path, target, None))
        return done

    chunks = [pairs[i : i + batch_size] for i in range(0, len(pairs), batch_size)]
    bar = tqdm(total=len(pairs), unit="img", desc=description, disable=not progress)
    try:
        with bar:
            for done in map_in_lanes(translate_chunk, chunks, lanes, torch_threads):
                for path, target, problem in done:
                    if problem is None:
                        report.written.append(Written(path, target))
                    else:
                        report.skipped.append((path, problem))
                        tqdm.write(f"skipped {path}: {problem}", file=sys.stderr)
                bar.update(len(done))
    except DiskFullError as e:
        raise DiskFullError(
            f"{e}; the images written before it are whole and no partial file is left: free "
            f"some space and run the same command with --skip-existing to translate the rest",
            path=e.path,
        ) from None
    return report
