"""Reading and writing image files: any common kind in, 8-bit arrays of set channels out."""

from __future__ import annotations

import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from gan_style.disk import write_atomic
from gan_style.errors import DataError

Item = TypeVar("Item")
Loaded = TypeVar("Loaded")

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif")
# The largest image decoded, in pixels: about 8000 x 8000 (a 64-megapixel photo), 192 MB as
# 8-bit RGB. Checked from the file's header before anything is decoded, so a file whose header
# claims 30000 x 30000 costs nothing; raise it (translate --max-megapixels) for larger images
# and translate those with --tile, which bounds the network's memory.
MAX_PIXELS = 64_000_000
# PIL's own guard warns from 89 MP and refuses from 179 MP whatever the caller wants; MAX_PIXELS
# replaces it, so that the limit is one deliberate number that a user can raise.
Image.MAX_IMAGE_PIXELS = None


def find_images(folder: str | Path) -> list[Path]:
    """Image files below `folder`, recursively, sorted so that runs are reproducible."""
    folder = Path(folder)
    return sorted(
        p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()
    )


def image_name(path: Path, folder: Path) -> str:
    """A file's name below `folder` without extension (`sub/x`): how inputs, translations and
    ground truth of the same image find each other, whatever their formats."""
    return path.relative_to(folder).with_suffix("").as_posix()


def images_by_name(folder: str | Path) -> dict[str, Path]:
    """Image files below `folder` by `image_name`."""
    folder = Path(folder)
    return {image_name(p, folder): p for p in find_images(folder)}


def _to_8bit(img: Image.Image) -> Image.Image:
    """16-bit and float images (PNG/TIFF modes I;16, I, F) are scaled to 0..255."""
    arr = np.asarray(img, dtype=np.float64)
    peak = 65535.0 if img.mode.startswith("I") and arr.max(initial=0) > 255 else 255.0
    if img.mode == "F" and arr.max(initial=0) <= 1.0:
        peak = 1.0
    return Image.fromarray(np.clip(arr / peak * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")


def convert_image(img: Image.Image, channels: int = 3) -> np.ndarray:
    """An HxWxC uint8 array: EXIF rotation applied, transparency composited on white."""
    img = ImageOps.exif_transpose(img)
    if img.mode.startswith("I") or img.mode == "F":
        img = _to_8bit(img)
    if img.mode == "P" or img.mode in ("LA", "PA", "RGBa"):
        img = img.convert("RGBA")
    if img.mode == "RGBA":
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, img)
    img = img.convert("RGB" if channels == 3 else "L")
    arr = np.asarray(img)
    return arr if arr.ndim == 3 else arr[:, :, None]


def check_size(img: Image.Image, path: str | Path, max_pixels: int | None = MAX_PIXELS) -> None:
    """Refuse an image above `max_pixels` from its header, before it is decoded."""
    w, h = img.size
    if max_pixels and w * h > max_pixels:
        raise DataError(
            f"{path} is {w}x{h} ({w * h / 1e6:.0f} megapixels), above the limit of "
            f"{max_pixels / 1e6:g} megapixels; raise it with --max-megapixels (and use --tile N)"
        )


def header_pixels(path: str | Path) -> int:
    """Width x height from the file's header (nothing decoded); 0 for a file that cannot be
    opened, which its reading reports later."""
    try:
        with Image.open(path) as img:
            return img.size[0] * img.size[1]
    except Exception:  # any failure here is the reader's to report, in its own words
        return 0


def load_image(
    path: str | Path, channels: int = 3, max_pixels: int | None = MAX_PIXELS
) -> np.ndarray:
    return read_image(path, channels, max_pixels)[0]


def read_image(
    path: str | Path, channels: int = 3, max_pixels: int | None = MAX_PIXELS
) -> tuple[np.ndarray, bytes | None]:
    """The image as an HxWxC uint8 array, and its embedded colour profile (to carry over to an
    output), from one opening of the file."""
    try:
        with Image.open(path) as img:
            check_size(img, path, max_pixels)
            img.load()
            return convert_image(img, channels), img.info.get("icc_profile") or None
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError, EOFError) as e:
        reason = str(e).strip() or type(e).__name__
        raise DataError(f"cannot read image {path}: {reason}; remove or replace the file") from None


def readable(items: list[Item], load: Callable[[Item], Loaded]) -> tuple[list[Item], list[Loaded]]:
    """The `items` that `load` can read, and what it read; each one it cannot (a `DataError`)
    is named on stderr, in one line, and left out, so that one bad file does not stop the
    others."""
    kept, loaded = [], []
    for item in items:
        try:
            loaded.append(load(item))
        except DataError as e:
            print(f"skipped: {e}", file=sys.stderr)
            continue
        kept.append(item)
    return kept, loaded


def load_readable(
    paths: list[Path], channels: int = 3, max_pixels: int | None = MAX_PIXELS
) -> tuple[list[Path], list[np.ndarray]]:
    """The files of `paths` that can be read, and their images (see `readable`)."""
    return readable(paths, lambda path: load_image(path, channels, max_pixels))


def _check(path: Path) -> str | None:
    """Why `path` cannot be used, or None."""
    try:
        with Image.open(path) as img:
            check_size(img, path)
            img.draft("RGB", (64, 64))  # JPEGs decode at reduced scale: fast, still complete
            img.load()
    except DataError as e:
        return str(e).removeprefix(f"{path} ")
    except Exception as e:  # any decoder failure means the file is unusable
        return f"{type(e).__name__}: {str(e).strip() or 'cannot be decoded'}"
    return None


def unreadable_images(paths: list[Path], workers: int = 8) -> dict[Path, str]:
    """Decode every file once, up front: the unusable ones, with the reason."""
    with ThreadPoolExecutor(workers) as pool:
        reasons = list(pool.map(_check, paths))
    return {p: r for p, r in zip(paths, reasons, strict=True) if r}


def to_pil(image: np.ndarray) -> Image.Image:
    """An HxWxC uint8 array as a PIL image: mode L for one channel, RGB for three."""
    return Image.fromarray(image[:, :, 0] if image.shape[2] == 1 else image)


def save_image(image: np.ndarray, path: str | Path) -> None:
    """Write an HxWxC uint8 array whole or not at all, in the format of `path`'s extension;
    PNG keeps it exactly, so metrics read back what they scored."""
    save_pil(to_pil(image), path)


def save_pil(pil: Image.Image, path: str | Path, **options: object) -> None:
    """A PIL image whole or not at all, in the format of `path`'s extension (PNG if unknown),
    with the format's `options` (quality, ICC profile, ...)."""
    path = Path(path)
    kind = Image.registered_extensions().get(path.suffix.lower(), "PNG")
    write_atomic(path, lambda f: pil.save(f, format=kind, **options))
