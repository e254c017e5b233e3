"""Scoring protocols on folders of images matched by file name.

| protocol | compares                                   | directions       |
|----------|--------------------------------------------|------------------|
| paired   | translated image vs its ground truth       | AtoB, BtoA       |
| cycle    | real image vs its reconstruction           | ABA, BAB         |
| content  | input vs translation, on luminance only    | AtoB, BtoA       |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from gan_style.errors import EvaluationError
from gan_style.evaluation.metrics import luminance, mae, psnr, ssim
from gan_style.image_io import images_by_name, load_image

PROTOCOLS = ("paired", "cycle", "content")


@dataclass
class ImageScore:
    protocol: str
    direction: str
    image: str  # path relative to the folders, without extension
    ssim: float
    psnr: float
    mae: float
    lpips: float | None = None  # None: LPIPS not computed (no backbone weights, or --no-lpips)


# An LPIPS scorer: two 8-bit images in, a distance out (`perceptual.Lpips`).
PairScorer = Callable[[np.ndarray, np.ndarray], float]


def _names(items: list[str]) -> str:
    shown = ", ".join(items[:5])
    return shown + (f" and {len(items) - 5} more" if len(items) > 5 else "")


def match_by_name(a_dir: Path, b_dir: Path) -> list[tuple[str, Path, Path]]:
    """Pairs (name, a, b) of files with the same relative path, extension aside.

    A file without a partner is an error that names it: scoring a subset silently would
    report numbers on other images than the user thinks.
    """
    for folder in (a_dir, b_dir):
        if not folder.is_dir():
            raise EvaluationError(f"folder {folder} not found")
    a, b = images_by_name(a_dir), images_by_name(b_dir)
    missing, extra = sorted(set(a) - set(b)), sorted(set(b) - set(a))
    if missing or extra:
        parts = []
        if missing:
            parts.append(
                f"{len(missing)} image(s) of {a_dir} have no match in {b_dir}: {_names(missing)}"
            )
        if extra:
            parts.append(
                f"{len(extra)} image(s) of {b_dir} have no match in {a_dir}: {_names(extra)}"
            )
        raise EvaluationError("; ".join(parts))
    if not a:
        raise EvaluationError(f"no images in {a_dir}")
    return [(name, a[name], b[name]) for name in sorted(a)]


def at_size_of(reference: np.ndarray, image: np.ndarray) -> np.ndarray:
    """`image` shrunk (by area) to `reference`'s size: an enlarger's output beside its input."""
    h, w = reference.shape[:2]
    if image.shape[:2] == (h, w):
        return image
    shrunk = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
    return shrunk if shrunk.ndim == 3 else shrunk[:, :, None]


def score_arrays(
    protocol: str,
    direction: str,
    name: str,
    a: np.ndarray,
    b: np.ndarray,
    lpips: PairScorer | None = None,
) -> ImageScore:
    """The content protocol compares luminance only, LPIPS included (grey in all 3 channels),
    an enlarger's output shrunk to its input's size."""
    if protocol == "content":
        a, b = luminance(a), luminance(at_size_of(a, b))
    return ImageScore(
        protocol,
        direction,
        name,
        ssim(a, b, name),
        psnr(a, b, name),
        mae(a, b, name),
        lpips(a, b) if lpips is not None else None,
    )


def score_folders(
    protocol: str, direction: str, a_dir: Path, b_dir: Path, lpips: PairScorer | None = None
) -> list[ImageScore]:
    """Score every same-named pair of `a_dir` and `b_dir` under `protocol`."""
    if protocol not in PROTOCOLS:
        raise EvaluationError(
            f"unknown protocol '{protocol}'; choose one of {', '.join(PROTOCOLS)}"
        )
    return [
        score_arrays(protocol, direction, name, load_image(pa), load_image(pb), lpips)
        for name, pa, pb in match_by_name(Path(a_dir), Path(b_dir))
    ]
