"""Shared fixtures: tiny generated datasets and tiny configs, so tests run in seconds on CPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_style.config import Config, from_dict

REPO = Path(__file__).resolve().parents[1]
MONET_MINI = REPO.parent / "shared" / "data" / "monet2photo-mini"


def write_images(folder: Path, count: int, size: tuple[int, int] = (40, 48), seed: int = 0) -> None:
    """Smooth random colour images (gradients plus blobs), different per seed."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    for i in range(count):
        base = rng.uniform(0, 1, 3)
        img = np.stack(
            [base[c] * 0.6 + 0.4 * np.sin(6 * (xx + yy * (c + 1)) + i) for c in range(3)], -1
        )
        Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8)).save(
            folder / f"img_{i:03d}.png"
        )


@pytest.fixture
def tiny_dataset(tmp_path: Path) -> Path:
    root = tmp_path / "tiny"
    write_images(root / "trainA", 4, seed=1)
    write_images(root / "trainB", 3, seed=2)
    write_images(root / "testA", 2, seed=3)
    write_images(root / "testB", 2, seed=4)
    return root


def tiny_config(root: Path, runs: Path, **overrides: dict) -> Config:
    raw = {
        "name": "tiny",
        "data": {"root": str(root), "load_size": 36, "crop_size": 32, "num_workers": 0},
        "model": {"generator": "resnet_6blocks", "ngf": 8, "ndf": 8},
        "train": {"epochs": 1, "epochs_decay": 2, "max_steps": 6, "seed": 3, "device": "cpu",
                  "save_every": 2, "keep_checkpoints": 2},
        "log": {"runs_dir": str(runs), "every": 1, "sample_every": 2, "num_samples": 2},
    }  # fmt: skip
    for section, values in overrides.items():
        raw.setdefault(section, {}).update(values)
    return from_dict(raw)


@pytest.fixture
def make_config(tiny_dataset: Path, tmp_path: Path):
    def make(**overrides: dict) -> Config:
        return tiny_config(tiny_dataset, tmp_path / "runs", **overrides)

    return make


@pytest.fixture
def run_dir(make_config) -> Path:
    """A CycleGAN trained 4 steps, with step checkpoints at 2 and 4."""
    from gan_style.training.loop import train

    return train(
        make_config(train={"max_steps": 4, "save_every": 2, "keep_checkpoints": 3}), run="t"
    )
