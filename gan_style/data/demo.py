"""The built-in demo dataset: photo crops (A) and the same kind of crops made painterly (B).

Built offline and deterministically from the colour photographs that scikit-image bundles.
Training and test crops come from different source photographs, so the test split is
held out. `testB_paired/` holds `painterly(testA/x)` under the same name as its input: the
ground truth that the evaluation's paired protocol scores against.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import skimage.data
from PIL import Image
from scipy import ndimage
from skimage.filters import sobel
from skimage.transform import resize

TRAIN_SOURCES = ("astronaut", "coffee", "rocket", "immunohistochemistry", "hubble_deep_field")
TEST_SOURCES = ("chelsea", "stereo_motorcycle")

# Warm "oil on canvas" palette: a sepia matrix blended half-way with the identity.
_SEPIA = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]])
WARM = 0.5 * np.eye(3) + 0.5 * _SEPIA


def painterly(image: np.ndarray) -> np.ndarray:
    """The demo's domain-B look, documented in the README. On an HxWx3 uint8 image:

    1. a 5x5 median filter per channel flattens fine texture into patches of colour;
    2. the warm palette `WARM` tints the colours towards ochre;
    3. edges (Sobel magnitude of the smoothed luminance) are darkened like brush outlines.
    """
    x = ndimage.median_filter(image.astype(np.float64) / 255.0, size=(5, 5, 1))
    x = np.clip(x @ WARM.T, 0.0, 1.0)
    edges = sobel(x.mean(axis=2))
    x = x * (1.0 - np.clip(3.0 * edges, 0.0, 0.6))[:, :, None]
    return (x * 255.0 + 0.5).astype(np.uint8)


def _source(name: str) -> np.ndarray:
    image = getattr(skimage.data, name)()
    return image[0] if isinstance(image, tuple) else image


def _crops(image: np.ndarray, count: int, size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Square crops of random position and scale (a third to all of the shorter side)."""
    h, w = image.shape[:2]
    out = []
    for _ in range(count):
        side = int(rng.uniform(0.33, 1.0) * min(h, w))
        y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        crop = resize(image[y : y + side, x : x + side], (size, size), anti_aliasing=True)
        out.append((crop * 255.0 + 0.5).astype(np.uint8))
    return out


def _save(images: list[np.ndarray], folder: Path, prefix: str) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i, image in enumerate(images):
        name = f"{prefix}_{i:03d}.png"
        Image.fromarray(image).save(folder / name)
        names.append(name)
    return names


def build_demo_dataset(
    root: str | Path = "data/demo", per_source: int = 40, test_per_source: int = 12, size: int = 80
) -> Path:
    """Write trainA/ trainB/ testA/ testB/ testB_paired/ under `root`; same output every time."""
    root = Path(root)
    rng = np.random.default_rng(2017)
    for split, sources, count in (
        ("train", TRAIN_SOURCES, per_source),
        ("test", TEST_SOURCES, test_per_source),
    ):
        for name in sources:
            image = _source(name)
            photos = _crops(image, count, size, rng)
            # Domain B uses other crops of the same photos: the two sides are unpaired.
            paintings = [painterly(c) for c in _crops(image, count, size, rng)]
            names = _save(photos, root / f"{split}A", name)
            _save(paintings, root / f"{split}B", name)
            if split == "test":
                paired = root / "testB_paired"
                paired.mkdir(parents=True, exist_ok=True)
                for photo, file_name in zip(photos, names, strict=True):
                    Image.fromarray(painterly(photo)).save(paired / file_name)
    return root
