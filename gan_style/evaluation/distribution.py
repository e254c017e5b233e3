"""FID and KID between translated images and a reference set, with cached reference features.

FID: Heusel et al. 2017. KID: Binkowski et al. 2018 (unbiased MMD^2, cubic polynomial kernel,
random subsets). Both are computed by torch-fidelity from features of the FID Inception network
(`inception.py`); this module only chooses the inputs and remembers the reference side.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gan_style.disk import cache_dir
from gan_style.errors import EvaluationError
from gan_style.evaluation.inception import FEATURE, FidExtractor
from gan_style.image_io import find_images, load_image
from gan_style.runtime.checkpoint import save_atomic

KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000  # the papers' value; smaller sets use all their images in each subset
KID_SEED = 2020  # torch-fidelity's: the same subsets for the same features
CACHE_FORMAT = "gan_style.fid_reference/1"


def fid(translated: np.ndarray, reference: np.ndarray) -> float:
    """Frechet distance of two N x D feature sets (torch-fidelity's computation)."""
    from torch_fidelity.metric_fid import (
        KEY_METRIC_FID,
        fid_features_to_statistics,
        fid_statistics_to_metric,
    )

    _check_sizes(translated, reference, "FID")
    stats = [fid_features_to_statistics(torch.from_numpy(f)) for f in (translated, reference)]
    return float(fid_statistics_to_metric(*stats, verbose=False)[KEY_METRIC_FID])


def kid(
    translated: np.ndarray,
    reference: np.ndarray,
    subsets: int = KID_SUBSETS,
    subset_size: int = KID_SUBSET_SIZE,
) -> dict[str, float | int]:
    """Mean and std of the unbiased MMD^2 over random subsets, k(x, y) = (x.y / d + 1)^3."""
    from torch_fidelity.metric_kid import (
        KEY_METRIC_KID_MEAN,
        KEY_METRIC_KID_STD,
        kid_features_to_metric,
    )

    _check_sizes(translated, reference, "KID")
    size = min(len(translated), len(reference), subset_size)
    out = kid_features_to_metric(
        torch.from_numpy(translated),
        torch.from_numpy(reference),
        kid_subsets=subsets,
        kid_subset_size=size,
        kid_kernel="poly",
        kid_kernel_poly_degree=3,
        kid_kernel_poly_gamma=None,
        kid_kernel_poly_coef0=1,
        rng_seed=KID_SEED,
        verbose=False,
    )
    return {
        "mean": float(out[KEY_METRIC_KID_MEAN]),
        "std": float(out[KEY_METRIC_KID_STD]),
        "subsets": subsets,
        "subset_size": size,
    }


def _check_sizes(a: np.ndarray, b: np.ndarray, name: str) -> None:
    if len(a) < 2 or len(b) < 2:
        raise EvaluationError(
            f"{name} needs at least 2 images on each side (got {len(a)} and {len(b)})"
        )


# --- The reference side, cached -----------------------------------------------------------------


@dataclass
class Reference:
    """Features of a reference set and a description a score can record."""

    features: np.ndarray
    source: dict


def folder_key(folder: Path, images: list[Path], settings: dict) -> str:
    """Changes when any file's bytes, the file list or the extractor settings change."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for path in images:
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def folder_reference(folder: Path, extractor: FidExtractor, cache: Path | None = None) -> Reference:
    """Features of every image under `folder`, computed once per contents and settings."""
    folder = Path(folder)
    images = find_images(folder) if folder.is_dir() else []
    if not images:
        raise EvaluationError(f"FID reference folder {folder} has no images")
    settings = extractor.describe()
    key = folder_key(folder, images, settings)
    path = (cache or cache_dir()) / "fid" / f"{key[:40]}.pt"
    source = {"folder": str(folder), "images": len(images), "contents_sha256": key}
    if path.is_file():
        try:
            return Reference(read_statistics(path, extractor).features, source | {"cached": True})
        except EvaluationError:
            pass  # unreadable cache entry: computed again below and replaced
    features = extractor.features([load_image(p) for p in images])
    write_statistics(path, features, settings, source)
    return Reference(features, source | {"cached": False})


def write_statistics(path: Path, features: np.ndarray, settings: dict, source: dict) -> None:
    """Atomically, so that a killed evaluation never leaves half a cache entry."""
    entry = {
        "format": CACHE_FORMAT,
        "features": torch.from_numpy(features),
        "settings": settings,
        "source": source,
    }
    save_atomic(entry, path)


def read_statistics(path: Path, extractor: FidExtractor) -> Reference:
    """A reference written by `write_statistics`, refused if made with other settings."""
    try:
        entry = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise EvaluationError(
            f"{path} is not a readable FID reference ({type(e).__name__})"
        ) from None
    if not isinstance(entry, dict) or entry.get("format") != CACHE_FORMAT:
        raise EvaluationError(
            f"{path} is not an FID reference written by gan-style; pass a folder of images"
        )
    if entry["settings"] != extractor.describe():
        raise EvaluationError(
            f"{path} was computed with other FID settings ({entry['settings']['weights']}, "
            f"sha256 {entry['settings']['weights_sha256'][:8]}...); pass its image folder instead"
        )
    features = entry["features"].double().numpy()
    if features.ndim != 2 or features.shape[1] != int(FEATURE):
        raise EvaluationError(f"{path} holds no {FEATURE}-d features")
    return Reference(features, dict(entry["source"]) | {"statistics": str(path)})


def load_reference(path: Path, extractor: FidExtractor) -> Reference:
    """`--fid-reference`: a folder of images (cached) or a statistics file written by us."""
    path = Path(path)
    if path.is_dir():
        return folder_reference(path, extractor)
    if path.is_file():
        return read_statistics(path, extractor)
    raise EvaluationError(f"FID reference {path} not found: pass a folder of images")


def score(translated: np.ndarray, reference: Reference) -> dict[str, dict]:
    """{"fid": {...}, "kid": {...}}, each with the image counts and the reference it used."""
    record = {
        "translated_images": len(translated),
        "reference_images": len(reference.features),
        "reference": reference.source,
    }
    return {
        "fid": {"value": fid(translated, reference.features)} | record,
        "kid": kid(translated, reference.features) | record,
    }
