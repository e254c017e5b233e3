"""Colorization: Lab round trips, the dataset, training, and the commands on its checkpoints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from skimage.color import lab2rgb, rgb2lab

from gan_style.cli import main
from gan_style.config import ConfigError, from_dict
from gan_style.data import ColorizationDataset, held_out_images
from gan_style.data.lab import gray_rgb, lab_to_rgb, rgb_to_lab
from gan_style.models import Colorization, build_model
from gan_style.runtime import checkpoint as ckpt
from gan_style.training.loop import train
from tests.conftest import write_images


def photos(root: Path) -> Path:
    write_images(root / "train", 4, size=(40, 48), seed=5)
    write_images(root / "test", 2, size=(36, 44), seed=6)
    return root


def colorize_config(root: Path, runs: Path, **sections: dict):
    raw = {
        "name": "colorize",
        "data": {"root": str(root), "dataset_mode": "colorization", "load_size": 36,
                 "crop_size": 32, "num_workers": 0},
        "model": {"name": "colorization", "generator": "resnet_6blocks", "ngf": 8, "ndf": 8,
                  "norm": "batch", "dropout": True},
        "loss": {"gan_mode": "vanilla", "lambda_l1": 100.0},
        "train": {"epochs": 1, "epochs_decay": 1, "max_steps": 4, "seed": 3, "device": "cpu",
                  "pool_size": 0, "save_every": 2},
        "log": {"runs_dir": str(runs), "every": 1, "sample_every": 2, "num_samples": 2},
        "eval": {"every": 2, "metric": "ssim_AB", "num_images": 2},
    }  # fmt: skip
    for section, values in sections.items():
        raw[section] = raw.get(section, {}) | values
    return from_dict(raw)


def test_lab_round_trip_matches_scikit_image() -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (9, 11, 3), dtype=np.uint8)
    lightness, ab = rgb_to_lab(rgb)
    lab = rgb2lab(rgb.astype(np.float64) / 255)
    assert np.allclose((lightness[..., 0] + 1) * 50, lab[..., 0], atol=1e-4)
    assert np.allclose(ab * 110, lab[..., 1:], atol=1e-3)
    back = lab_to_rgb(lightness, ab)
    assert np.allclose(back, lab2rgb(lab), atol=1e-4)
    assert np.abs(np.round(back * 255) - rgb).max() <= 1  # RGB -> L, ab -> RGB
    gray = gray_rgb(rgb).astype(int)
    assert np.abs(gray[..., 0] - gray[..., 1]).max() <= 1  # colour removed


def test_dataset_makes_pairs_from_photos(tmp_path: Path) -> None:
    cfg = colorize_config(photos(tmp_path / "p"), tmp_path / "runs")
    dataset = ColorizationDataset(cfg.data, "train", seed=1)
    item = dataset[(0, 2)]
    assert item["A"].shape == (1, 32, 32) and item["B"].shape == (2, 32, 32)
    assert item["A"].min() >= -1 and item["A"].max() <= 1 and item["B"].abs().max() < 1
    held = held_out_images(cfg)
    assert set(held.inputs) == {"A"} and len(held.truths["A"]) == 2
    gray = held.inputs["A"][0].astype(int)
    assert np.abs(gray[..., 0] - gray[..., 2]).max() <= 1  # the input is shown in gray
    assert held.truths["A"][0].shape == (36, 44, 3)


def test_model_and_data_go_together(tmp_path: Path) -> None:
    root = photos(tmp_path / "p")
    with pytest.raises(ConfigError, match="go together"):
        colorize_config(root, tmp_path / "runs", data={"dataset_mode": "unaligned"})
    with pytest.raises(ConfigError, match=r"data\.channels must be 3"):
        colorize_config(root, tmp_path / "runs", data={"channels": 1})


@pytest.mark.slow
def test_trains_resumes_and_serves_the_commands(tmp_path: Path, capsys) -> None:
    root = photos(tmp_path / "p")
    straight = train(colorize_config(root, tmp_path / "runs"), run="straight")
    train(colorize_config(root, tmp_path / "runs", train={"max_steps": 2}), run="resumed")
    resumed = train(colorize_config(root, tmp_path / "runs"), run="resumed")
    a, b = ckpt.load(straight / "latest.pt")["model"], ckpt.load(resumed / "latest.pt")["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    fresh = build_model(colorize_config(root, tmp_path / "runs")).state_dict()
    assert isinstance(build_model(colorize_config(root, tmp_path / "runs")), Colorization)
    assert any(not torch.equal(fresh[k], a[k]) for k in a if k.startswith("G_AB."))
    metrics = (straight / "metrics.json").read_text()
    assert "ssim_AB" in metrics
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    l1 = [e.value for e in EventAccumulator(str(straight)).Reload().Scalars("Loss/G/l1")]
    assert len(l1) == 4 and l1[-1] != l1[0]

    photo = tmp_path / "old.png"
    Image.fromarray(np.full((30, 26), 120, np.uint8)).save(photo)  # a grayscale photo
    assert main(["translate", str(straight), str(photo), "--out", str(tmp_path / "t")]) == 0
    coloured = np.asarray(Image.open(tmp_path / "t" / "old.png"))
    assert coloured.shape == (30, 26, 3)
    assert main(["evaluate", str(straight), "--no-fid", "--out", str(tmp_path / "e")]) == 0
    assert "paired" in capsys.readouterr().out
    assert main(["gallery", str(straight), "--out", str(tmp_path / "g")]) == 0
    page = (tmp_path / "g" / "index.html").read_text()
    assert "target" in page and "paired SSIM" in page
    assert main(["export", str(straight), "--format", "torchscript"]) == 0
    assert "input N x 1 x H x W" in capsys.readouterr().out
