"""Translating the user's own image files and folders with a trained generator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from gan_style.errors import DataError
from gan_style.image_io import IMAGE_EXTENSIONS, find_images, load_image, to_pil
from gan_style.inference.generators import Generators
from gan_style.inference.translation import translate_images, translate_tiled


def input_files(inputs: list[Path]) -> list[tuple[Path, Path]]:
    """(file, output name) for files and folders (recursive); names keep folder structure."""
    files: list[tuple[Path, Path]] = []
    for item in inputs:
        if item.is_dir():
            found = find_images(item)
            if not found:
                raise DataError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) in {item}")
            files += [(p, p.relative_to(item)) for p in found]
        elif item.is_file():
            files.append((item, Path(item.name)))
        else:
            raise DataError(f"input {item} not found")
    seen: dict[Path, Path] = {}
    for path, name in files:
        if name in seen:
            raise DataError(
                f"{path} and {seen[name]} would both be written as {name}; translate them apart"
            )
        seen[name] = path
    return files


def save_like(image: np.ndarray, path: Path) -> None:
    """Save under the input's own file name and format (JPEG at quality 95)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pil = to_pil(image)
    if path.suffix.lower() in (".jpg", ".jpeg"):
        pil.save(path, quality=95)
    else:
        pil.save(path)


def translate_paths(
    gens: Generators,
    inputs: list[Path],
    out: Path,
    direction: str = "AtoB",
    batch_size: int = 4,
    tile: int = 0,
    style: torch.Tensor | None = None,
    progress: bool = True,
) -> list[Path]:
    """Translate every input image into `out`; each output has its input's size and name."""
    generator = gens.pick(direction)
    files = input_files(inputs)
    channels = gens.config.data.channels
    written = []
    bar = tqdm(total=len(files), unit="img", desc=f"translate {direction}", disable=not progress)
    with bar:
        for start in range(0, len(files), batch_size):
            chunk = files[start : start + batch_size]
            images = [load_image(path, channels) for path, _ in chunk]
            if tile:
                outputs = [
                    translate_tiled(generator, im, tile, gens.multiple, style=style)
                    for im in images
                ]
            else:
                outputs = translate_images(
                    generator, images, gens.multiple, batch_size, style, gens.precision
                )
            for (_, name), image in zip(chunk, outputs, strict=True):
                save_like(image, out / name)
                written.append(out / name)
            bar.update(len(chunk))
    return written
