"""Paired data for conditional GANs: the pix2pix A|B format, two folders matched by name, or
images and their line drawings (`sketch`)."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from gan_style.config import DataConfig
from gan_style.data.base import TranslationDataset
from gan_style.data.folders import domain_images, fetch_hint, images_folder, split_folder
from gan_style.data.sampling import SampleKey, item_rng
from gan_style.data.sketch import colour_hints, line_drawing
from gan_style.errors import DataError
from gan_style.image_io import find_images, image_name, load_image

Pair = tuple[Path, Path | None]  # (A|B file, None) for aligned data, (A file, B file) for paired


def find_pairs(cfg: DataConfig, phase: str) -> list[Pair]:
    root = Path(cfg.root)
    if cfg.dataset_mode in ("sketch", "restoration"):  # any folder: train/, or trainA/
        return [(p, None) for p in domain_images(root, images_folder(root, phase), cfg.dataset)]
    if cfg.dataset_mode == "aligned":
        folder = root / split_folder(root, phase)
        if not folder.is_dir():
            hint = fetch_hint(root, cfg.dataset, "pix2pix")
            raise DataError(f"dataset folder {folder} not found; {hint}")
        paths = find_images(folder)
        if not paths:
            raise DataError(f"no images in {folder}; aligned data holds A|B pairs side by side")
        for path in paths:
            try:
                with Image.open(path) as img:
                    width = img.size[0]
            except OSError:  # unreadable: the loaders name it and leave it out
                continue
            if width % 2:
                raise DataError(
                    f"{path} is not an A|B pair: its width {width} is odd; aligned data holds "
                    f"A and B side by side, each half the width (pix2pix format)"
                )
        return [(p, None) for p in paths]
    a_dir, b_dir = f"{phase}A", f"{phase}B"
    a, b = (
        {image_name(p, root / d): p for p in domain_images(root, d, cfg.dataset)}
        for d in (a_dir, b_dir)
    )
    missing = sorted(set(a) ^ set(b))
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise DataError(
            f"paired data needs the same file names in {root / a_dir} and {root / b_dir}; "
            f"unmatched: {', '.join(missing[:5])}{more}"
        )
    return [(a[name], b[name]) for name in sorted(a)]


def load_pair(
    pair: Pair, cfg: DataConfig, rng: np.random.Generator | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(input, target) as 8-bit arrays at full size, after `data.direction`. Sketch drawings
    get `data.sketch_hints` colour hints: a random number of them drawn from `rng` (training),
    else all of them at places fixed by the file's name (held-out images)."""
    first, second = pair
    if cfg.dataset_mode == "sketch":
        a = load_image(first, cfg.channels)
        b = line_drawing(a, cfg.sketch_thickness, cfg.sketch_threshold)
        if cfg.sketch_hints and a.shape[2] == 3:
            count = cfg.sketch_hints if rng is None else int(rng.integers(cfg.sketch_hints + 1))
            rng = rng or np.random.default_rng(zlib.crc32(first.name.encode()))
            b = colour_hints(b, a, count, rng)
    elif second is None:
        image = load_image(first, cfg.channels)
        half = image.shape[1] // 2
        a, b = image[:, :half], image[:, half:]
    else:
        a, b = load_image(first, cfg.channels), load_image(second, cfg.channels)
        if a.shape != b.shape:
            raise DataError(
                f"{first} and {second} differ in size; a pair must be aligned pixel for pixel"
            )
    return (b, a) if cfg.direction == "BtoA" else (a, b)


class PairedDataset(TranslationDataset):
    """Items are {"A", "B", "A_paths", "B_paths"}: an input and its target, cropped alike."""

    paired = True

    def _find(self, phase: str) -> list[Path]:
        self.pairs = find_pairs(self.cfg, phase)
        return [p for pair in self.pairs for p in pair if p is not None]

    def _drop(self, bad: set[Path]) -> None:
        self.pairs = [pair for pair in self.pairs if not bad.intersection(pair)]
        if not self.pairs:
            raise DataError(f"every pair in {self.cfg.root} is unreadable (named above)")

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, key: SampleKey) -> dict:
        index, rng = item_rng(self.seed, key)
        pair = self.pairs[index]
        a, b = load_pair(pair, self.cfg, rng if self.train else None)  # held out: fixed hints
        self.transform.set_random_seed(int(rng.integers(2**31)))
        out = self.transform(image=a, target=b)
        path = str(pair[0])
        return {
            "A": out["image"],
            "B": out["target"],
            "A_paths": path,
            "B_paths": str(pair[1] or path),
        }
