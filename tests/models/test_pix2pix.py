"""pix2pix: paired data in both formats, the conditional model, training and evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_style.cli import main
from gan_style.config import DataConfig, from_dict, load_config
from gan_style.data import PairedDataset
from gan_style.errors import ConfigError, DataError
from gan_style.models import Pix2Pix, build_model
from gan_style.training.loop import train
from tests.conftest import REPO


def scene(seed: int, size: int = 40) -> np.ndarray:
    """Colour that varies within the image. (A per-image colour cast alone would not do: instance
    and batch norm remove each image's channel means, so no normalised generator could map it.)"""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    freq, phase = rng.uniform(3, 9, 3), rng.uniform(0, 6, 3)
    channels = [0.5 + 0.4 * np.sin(freq[c] * (xx + yy * (c - 1)) + phase[c]) for c in range(3)]
    return (np.clip(np.stack(channels, -1), 0, 1) * 255).astype(np.uint8)


def mapping(a: np.ndarray) -> np.ndarray:
    """The synthetic task: a fixed colour mapping (invert, then swap red and blue)."""
    return (255 - a)[..., ::-1].copy()


def aligned_dataset(root: Path, count: int = 6, size: int = 40) -> Path:
    for split, n in (("train", count), ("test", 3)):
        (root / split).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            a = scene(i + (100 if split == "test" else 0), size)
            Image.fromarray(np.concatenate([a, mapping(a)], axis=1)).save(
                root / split / f"{i:03d}.png"
            )
    return root


def pix2pix_config(root: Path, runs: Path, **sections: dict):
    raw = {
        "name": "p2p",
        "data": {"root": str(root), "dataset_mode": "aligned", "load_size": 40, "crop_size": 32,
                 "num_workers": 0, "flip": False},
        "model": {"name": "pix2pix", "generator": "resnet_6blocks", "ngf": 8, "ndf": 8,
                  "norm": "batch"},
        "loss": {"gan_mode": "vanilla", "lambda_l1": 100.0},
        "train": {"epochs": 100, "epochs_decay": 0, "max_steps": 4, "lr": 1e-3, "pool_size": 0,
                  "device": "cpu", "save_every": 1000},
        "log": {"runs_dir": str(runs), "every": 1, "sample_every": 1000, "num_samples": 2},
    }  # fmt: skip
    for section, values in sections.items():
        raw[section] = raw.get(section, {}) | values
    return from_dict(raw)


class TestPairedData:
    def test_aligned_pairs_share_crop_and_flip(self, tmp_path: Path) -> None:
        root = aligned_dataset(tmp_path / "d")
        ds = PairedDataset(
            DataConfig(root=str(root), dataset_mode="aligned", load_size=40, crop_size=24)
        )
        for epoch in range(4):  # random crops and flips, yet B stays the mapping of A
            item = ds[(epoch, 1)]
            a = ((item["A"] + 1) * 127.5).round().permute(1, 2, 0).numpy()
            b = ((item["B"] + 1) * 127.5).round().permute(1, 2, 0).numpy()
            assert np.abs(mapping(a.astype(np.uint8)).astype(int) - b).max() <= 2

    def test_direction_swaps_sides(self, tmp_path: Path) -> None:
        root = aligned_dataset(tmp_path / "d")
        cfg = DataConfig(
            root=str(root), dataset_mode="aligned", load_size=40, crop_size=40, flip=False
        )
        forward = PairedDataset(cfg, train=False)[0]
        backward = PairedDataset(DataConfig(**{**cfg.__dict__, "direction": "BtoA"}), train=False)[
            0
        ]
        assert torch.equal(forward["A"], backward["B"]) and torch.equal(forward["B"], backward["A"])

    def test_paired_folders(self, tmp_path: Path) -> None:
        for side in ("A", "B"):
            (tmp_path / f"train{side}").mkdir()
        for i in range(3):
            a = scene(i)
            Image.fromarray(a).save(tmp_path / "trainA" / f"{i}.png")
            Image.fromarray(mapping(a)).save(
                tmp_path / "trainB" / f"{i}.jpg"
            )  # extensions may differ
        ds = PairedDataset(
            DataConfig(root=str(tmp_path), dataset_mode="paired", load_size=40, crop_size=32)
        )
        assert len(ds) == 3 and ds[0]["B_paths"].endswith("0.jpg")

    def test_malformed_pairs(self, tmp_path: Path) -> None:
        (tmp_path / "train").mkdir()
        Image.new("RGB", (41, 20)).save(tmp_path / "train" / "odd.png")
        with pytest.raises(DataError, match=r"odd\.png is not an A\|B pair: its width 41 is odd"):
            PairedDataset(DataConfig(root=str(tmp_path), dataset_mode="aligned"))
        for side in ("A", "B"):
            (tmp_path / f"train{side}").mkdir()
        Image.new("RGB", (8, 8)).save(tmp_path / "trainA" / "x.png")
        Image.new("RGB", (8, 8)).save(tmp_path / "trainB" / "y.png")
        with pytest.raises(DataError, match=r"same file names.*unmatched: x, y"):
            PairedDataset(DataConfig(root=str(tmp_path), dataset_mode="paired"))

    def test_missing_aligned_folder_says_how_to_fetch(self, tmp_path: Path) -> None:
        cfg = DataConfig(root=str(tmp_path / "facades"), dataset="facades", dataset_mode="aligned")
        with pytest.raises(DataError, match="gan-style data download facades --kind pix2pix"):
            PairedDataset(cfg)


class TestModel:
    def test_conditional_discriminator_and_losses(self, tmp_path: Path) -> None:
        cfg = pix2pix_config(tmp_path, tmp_path)
        model = build_model(cfg)
        assert isinstance(model, Pix2Pix) and model.D.model[0].in_channels == 6  # sees (A, B)
        batch = {"A": torch.rand(2, 3, 32, 32) * 2 - 1, "B": torch.rand(2, 3, 32, 32) * 2 - 1}
        g = model.generator_step(batch)
        expected_l1 = (model._fake_B - batch["B"]).abs().mean() * 100
        assert g["G/l1"].item() == pytest.approx(expected_l1.item(), rel=1e-5)
        d = model.discriminator_step(batch)
        assert set(d) == {"D/real", "D/fake", "D/total"}

    def test_the_perceptual_term_pulls_towards_the_target(self, tmp_path: Path) -> None:
        """loss.lambda_perceptual: VGG features of the output against the target's, zero when
        they are equal; the fixed VGG moves with the model but stays out of its weights."""
        loss = {"gan_mode": "vanilla", "lambda_l1": 100.0, "lambda_perceptual": 2.0,
                "vgg_weights": "random"}  # fmt: skip
        model = build_model(pix2pix_config(tmp_path, tmp_path, loss=loss))
        batch = {"A": torch.rand(2, 3, 32, 32) * 2 - 1, "B": torch.rand(2, 3, 32, 32) * 2 - 1}
        g = model.generator_step(batch)
        assert g["G/perceptual"].item() > 0 and g["G/total"].item() == pytest.approx(
            (g["G/gan"] + g["G/l1"] + g["G/perceptual"]).item(), rel=1e-6
        )
        assert model.perceptual(batch["B"], batch["B"]).item() == 0
        g["G/perceptual"].backward()
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.G_AB.parameters())
        assert model.fixed_networks == [model.vgg]
        assert not [k for k in model.state_dict() if "vgg" in k]
        model.double()
        assert next(model.vgg.parameters()).dtype == torch.float64
        with pytest.raises(
            ConfigError, match="lambda_perceptual is a term of cycle_gan and pix2pix"
        ):
            pix2pix_config(tmp_path, tmp_path, loss=loss, model={"name": "cut"})

    def test_facades_experiment(self) -> None:
        import os

        cwd = os.getcwd()
        os.chdir(REPO)
        try:
            cfg = load_config("facades")
        finally:
            os.chdir(cwd)
        assert (cfg.model.name, cfg.model.generator, cfg.loss.gan_mode, cfg.loss.lambda_l1) == (
            "pix2pix", "unet_256", "vanilla", 100.0)  # fmt: skip
        assert (cfg.data.dataset_mode, cfg.data.direction) == ("aligned", "BtoA")


@pytest.mark.slow
def test_learns_a_colour_mapping(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Stated bound: within 60 CPU steps the L1 loss falls by at least 40% and the held-out
    paired SSIM of the fixed colour mapping exceeds 0.5 (measured here: L1 51 -> 23, SSIM 0.63)."""
    root = aligned_dataset(tmp_path / "d")
    cfg = pix2pix_config(root, tmp_path / "runs", train={"max_steps": 60},
                         eval={"every": 60, "metric": "ssim_AB", "num_images": 3})  # fmt: skip
    run_dir = train(cfg, run="map")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    l1 = [e.value for e in EventAccumulator(str(run_dir)).Reload().Scalars("Loss/G/l1")]
    assert np.mean(l1[-5:]) < 0.6 * np.mean(l1[:5])  # measured: 51 -> 23
    metrics = json.loads((run_dir / "metrics.json").read_text())["last"]["metrics"]
    assert set(metrics) == {"ssim_AB", "psnr_AB", "content_ssim_AB"}
    assert metrics["ssim_AB"] > 0.5  # measured 0.63

    out = tmp_path / "eval"
    assert main(["evaluate", str(run_dir), "--out", str(out), "--no-fid", "--device", "cpu"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["metrics"]["paired"]["AtoB"]["ssim"]["n"] == 3
    assert "content" in summary["metrics"] and "cycle" not in summary["metrics"]
    assert main(["gallery", str(run_dir), "--out", str(tmp_path / "g"), "--device", "cpu"]) == 0
    page = (tmp_path / "g" / "index.html").read_text()
    assert "paired SSIM" in page and "<td>best by ssim_AB</td><td>60</td>" in page


def test_inference_follows_the_paper_unless_eval_mode(tmp_path: Path) -> None:
    """pix2pix tests with batch statistics and dropout on; after a few steps the running
    statistics are far from converged, so eval mode gives flat, grey outputs."""
    from gan_style.inference import load_generators, translate_images

    root = aligned_dataset(tmp_path / "d")
    cfg = pix2pix_config(root, tmp_path / "runs", model={"dropout": True})
    run_dir = train(cfg, run="few")
    inputs = [scene(200 + i) for i in range(3)]
    paper = load_generators(run_dir)
    assert paper.G_AB.training is False  # the module, but its norms and dropout are in training
    norms = [m for m in paper.G_AB.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and all(m.training and m.momentum == 0 for m in norms)
    stored = norms[0].running_mean.clone()
    torch.manual_seed(0)
    alone = [translate_images(paper.G_AB, [image])[0] for image in inputs]
    torch.manual_seed(0)
    together = translate_images(paper.G_AB, inputs, batch_size=3)  # each on its own statistics
    assert all(np.array_equal(a, b) for a, b in zip(alone, together, strict=True))
    assert torch.equal(norms[0].running_mean, stored)  # the stored statistics are kept
    evaluated = load_generators(run_dir, eval_mode=True)
    assert all(not m.training for m in evaluated.G_AB.modules())
    flat = translate_images(evaluated.G_AB, inputs)
    assert np.mean([a.std() for a in alone]) > 2 * np.mean([f.std() for f in flat])


def test_training_time_scores_keep_the_training_state(tmp_path: Path) -> None:
    """Scoring with test-batch statistics and dropout leaves weights, running statistics and the
    random stream of training alone: resuming still equals an uninterrupted run."""
    root = aligned_dataset(tmp_path / "d")
    sections = {"model": {"dropout": True},
                "eval": {"every": 1, "metric": "ssim_AB", "num_images": 2}}  # fmt: skip
    straight = train(pix2pix_config(root, tmp_path / "runs", **sections), run="straight")
    half = {"train": {"max_steps": 2}} | sections
    train(pix2pix_config(root, tmp_path / "runs", **half), run="resumed")
    resumed = train(pix2pix_config(root, tmp_path / "runs", **sections), run="resumed")
    a = torch.load(straight / "latest.pt", weights_only=True)["model"]
    b = torch.load(resumed / "latest.pt", weights_only=True)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)
