"""Restoration data: the damage chain, (damaged, clean) pairs from any folder, shrunk inputs for
enlargers, their config checks, and the commands on a restorer and an enlarger."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from gan_style.cli import main
from gan_style.config import ConfigError
from gan_style.data import build_dataset
from gan_style.data.degradation import Degradation, Degrader, age
from gan_style.data.held_out import held_out_images
from gan_style.errors import DataError
from gan_style.evaluation.metrics import psnr
from gan_style.training.loop import train
from tests.conftest import tiny_config, write_images

NONE = Degradation(blur=0, downscale=1, noise=0, jpeg=100, fade=0, yellow=0, scratches=0, cast=0)


def photo(seed: int = 0, size: tuple[int, int] = (48, 64)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0 : size[0], 0 : size[1]] / max(size)
    image = np.stack([0.5 + 0.4 * np.sin(9 * xx * (c + 1) + 5 * yy) for c in range(3)], -1)
    image += rng.normal(0, 0.02, image.shape)
    return np.rint(np.clip(image, 0, 1) * 255).astype(np.uint8)


class TestDegradation:
    def test_the_same_generator_state_gives_the_same_damage(self) -> None:
        degrader, image = Degrader(Degradation(second_order=1.0)), photo()
        first = degrader.degrade(image, np.random.default_rng(5))
        assert np.array_equal(first, degrader.degrade(image, np.random.default_rng(5)))
        assert not np.array_equal(first, degrader.degrade(image, np.random.default_rng(6)))
        assert first.shape == image.shape and first.dtype == np.uint8

    def test_every_step_off_leaves_the_image_as_it_was(self) -> None:
        image = photo()
        assert np.array_equal(Degrader(NONE).degrade(image, np.random.default_rng(0)), image)

    def test_the_default_chain_damages(self) -> None:
        """Over 8 draws the damaged copies lie well below a near-lossless 40 dB from the clean
        image, each step's strength drawn anew (they differ from one another)."""
        image, degrader = photo(), Degrader(Degradation())
        scores = [psnr(image, degrader.degrade(image, np.random.default_rng(i))) for i in range(8)]
        assert np.mean(scores) < 30 and len(set(np.round(scores, 3))) == 8

    def test_fading_and_yellowing_do_what_they_say(self) -> None:
        image, rng = photo(), np.random.default_rng(1)
        faded = age(image, Degradation(fade=0.9, yellow=0, scratches=0), rng).astype(float)
        assert faded.std() < 0.9 * image.std()  # less contrast
        spread = np.ptp(faded, axis=2).mean()
        assert spread < 0.9 * np.ptp(image.astype(float), axis=2).mean()  # less saturated
        white = np.full((8, 8, 3), 255, np.uint8)
        yellowed = age(white, Degradation(fade=0, yellow=1.0, scratches=0), rng).astype(float)
        r, g, b = yellowed.reshape(-1, 3).mean(0)
        assert r > g > b and b < 235  # towards old paper's yellow

    def test_a_colour_cast_shifts_each_channel_by_its_own_amount(self) -> None:
        grey = np.full((16, 16, 3), 128, np.uint8)
        tinted = Degrader(replace(NONE, cast=30)).degrade(grey, np.random.default_rng(4))
        shifts = tinted.reshape(-1, 3).astype(int).mean(0) - 128
        assert np.abs(shifts).max() <= 30 and len(set(np.round(shifts))) == 3
        assert (tinted == tinted[0, 0]).all()  # the same shift everywhere

    def test_scratches_mark_a_flat_grey_image(self) -> None:
        grey = np.full((64, 64, 3), 128, np.uint8)
        marked = age(grey, Degradation(fade=0, yellow=0, scratches=20), np.random.default_rng(3))
        assert 0 < (marked != 128).any(axis=2).mean() < 0.5

    def test_an_enlarger_input_is_shrunk_and_grey_stays_grey(self) -> None:
        image = photo()
        for upscale in (2, 4):
            small = Degrader(Degradation(), upscale).degrade(image, np.random.default_rng(0))
            assert small.shape == (48 // upscale, 64 // upscale, 3)
        grey = photo()[..., :1]
        assert Degrader(Degradation(), 2).degrade(grey, np.random.default_rng(0)).shape == (
            24, 32, 1,
        )  # fmt: skip

    def test_an_enlarger_input_is_shrunk_by_the_named_interpolation_or_a_drawn_one(self) -> None:
        image = photo()
        for name, flag in (("area", cv2.INTER_AREA), ("bicubic", cv2.INTER_CUBIC)):
            small = Degrader(replace(NONE, shrink=name), 2).degrade(image, np.random.default_rng(0))
            np.testing.assert_array_equal(small, cv2.resize(image, (32, 24), interpolation=flag))
        named = {
            Degrader(replace(NONE, shrink=name), 2)
            .degrade(image, np.random.default_rng(0))
            .tobytes()
            for name in ("area", "bilinear", "bicubic")
        }
        drawn = {
            Degrader(NONE, 2).degrade(image, np.random.default_rng(seed)).tobytes()
            for seed in range(12)
        }
        # random draws one of them per image (at exactly half size bilinear is area averaging)
        assert drawn == named and len(named) == 2


def restoration_config(root: Path, runs: Path, **overrides: dict):
    model = {"name": "pix2pix", "generator": "resnet_6blocks", "discriminator": "n_layers",
             "n_layers_d": 2, "global_skip": True, "skip_filter": True}  # fmt: skip
    data = {"dataset_mode": "restoration"} | overrides.pop("data", {})
    return tiny_config(root, runs, model=model | overrides.pop("model", {}), data=data,
                       train={"max_steps": 3, "pool_size": 0}, eval={"metric": "psnr_AB"},
                       **overrides)  # fmt: skip


def test_any_folder_pairs_each_image_with_a_damaged_copy(tmp_path: Path) -> None:
    root = tmp_path / "photos"
    write_images(root / "train", 3, size=(40, 48), seed=1)
    write_images(root / "test", 2, size=(40, 48), seed=2)
    cfg = restoration_config(root, tmp_path / "runs")
    dataset = build_dataset(cfg.data, "train", seed=1)
    item = dataset[(0, 0)]
    assert item["A"].shape == item["B"].shape == (3, 32, 32)
    assert not np.allclose(item["A"], item["B"])
    assert np.array_equal(dataset[(0, 0)]["A"], item["A"])  # resumes exactly
    assert not np.array_equal(dataset[(1, 0)]["A"], item["A"])  # new damage each epoch
    held = held_out_images(cfg)
    clean = np.asarray(Image.open(root / "test" / "img_000.png"))
    assert np.array_equal(held.truths["A"][0], clean)  # the clean image is the truth
    assert held.inputs["A"][0].shape == clean.shape
    again = held_out_images(cfg)
    assert np.array_equal(again.inputs["A"][0], held.inputs["A"][0])  # damage fixed by name
    enlarging = restoration_config(root, tmp_path / "runs", model={"upscale": 2})
    small = build_dataset(enlarging.data, "train", seed=1, upscale=2)[(0, 0)]
    assert small["A"].shape == (3, 16, 16) and small["B"].shape == (3, 32, 32)
    held = held_out_images(enlarging)
    assert held.inputs["A"][0].shape == (20, 24, 3) and held.truths["A"][0].shape == (40, 48, 3)


def test_restoration_settings_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    runs, root = tmp_path / "runs", tmp_path / "photos"
    bad = [
        ({"model": {"name": "cycle_gan"}}, r"use model\.name=pix2pix"),
        ({"data": {"degrade_fade": 1.5}}, "degrade_fade is a share"),
        ({"data": {"degrade_noise": -1}}, "degrade_noise must be 0"),
        ({"data": {"degrade_jpeg": 0}}, "lowest JPEG quality"),
        ({"data": {"degrade_downscale": 0.5}}, "degrade_downscale is a factor"),
        ({"model": {"upscale": 3}}, "enlarges 2 or 4 times"),
        ({"model": {"upscale": 4}, "data": {"crop_size": 40, "load_size": 40}}, "divisible by 16"),
        ({"model": {"upscale": 2, "antialias": True}}, "without model.antialias"),
        ({"loss": {"lambda_gan": -1}}, "lambda_gan must be 0"),
        ({"loss": {"lambda_l2": -2}}, "lambda_l2 must be 0"),
    ]
    for overrides, message in bad:
        with pytest.raises(ConfigError, match=message):
            restoration_config(root, runs, **overrides)
    with pytest.raises(ConfigError, match=r"data\.dataset_mode=restoration and a ResNet"):
        tiny_config(root, runs, model={"upscale": 2})
    write_images(root / "test", 1, size=(3, 3))  # one line names it; the others go on
    enlarging = restoration_config(root, runs, model={"upscale": 4}, data={"crop_size": 32})
    with pytest.raises(DataError, match="no readable held-out pairs"):
        held_out_images(enlarging)
    assert "3x3 px: too small to shrink 4 times" in capsys.readouterr().err


@pytest.mark.slow
def test_a_restorer_and_an_enlarger_train_and_every_command_takes_them(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Train each a few steps; evaluate beside its baseline; translate an image of its own size
    (the enlarger's twice as large, tiled or not); gallery; export."""
    root = tmp_path / "photos"
    write_images(root / "trainA", 3, size=(40, 48), seed=1)
    write_images(root / "testA", 2, size=(40, 48), seed=2)
    runs = tmp_path / "runs"
    restorer = train(restoration_config(root, runs), run="r")
    pixel_losses = {"lambda_gan": 0.0, "lambda_l2": 10.0}  # as upscale_x2_demo: no D to train
    enlarger = train(restoration_config(root, runs, model={"upscale": 2}, loss=pixel_losses), "x2")
    for run, baseline in ((restorer, "the damaged input"), (enlarger, "bicubic enlargement")):
        out = tmp_path / f"e_{run.name}"
        assert main(["evaluate", str(run), "--no-fid", "--no-lpips", "--out", str(out)]) == 0
        paired = json.loads((out / "summary.json").read_text())["metrics"]["paired"]
        assert 0 < paired[f"AtoB (baseline: {baseline})"]["psnr"]["mean"] < 99
        assert "AtoB" in paired
    capsys.readouterr()
    Image.fromarray(photo(size=(30, 26))).save(tmp_path / "old.png")
    Image.fromarray(photo(size=(70, 50))).save(tmp_path / "big.png")
    Image.fromarray(np.full((1, 1, 3), 90, np.uint8)).save(tmp_path / "dot.png")
    grey_alpha = np.stack([photo(size=(9, 7))[..., 0], np.full((9, 7), 200, np.uint8)], -1)
    Image.fromarray(grey_alpha, "LA").save(tmp_path / "la.png")
    for run, name, size, extra in ((restorer, "old", (30, 26), []),
                                   (enlarger, "old", (60, 52), []),
                                   (enlarger, "dot", (2, 2), []),
                                   (enlarger, "la", (18, 14), []),
                                   (enlarger, "big", (140, 100), ["--tile", "32"])):  # fmt: skip
        out = tmp_path / f"t_{run.name}_{name}"
        args = ["translate", str(run), str(tmp_path / f"{name}.png"), "--out", str(out), *extra]
        assert main(args) == 0
        assert np.asarray(Image.open(out / f"{name}.png")).shape == (*size, 3)
    capsys.readouterr()
    both = [str(tmp_path / "old.png"), str(tmp_path / "big.png")]
    for engine in ("pytorch", "openvino"):  # the output's size counts, before any work
        out = tmp_path / f"limited_{engine}"
        args = ["translate", str(enlarger), *both, "--out", str(out), "--engine", engine]
        assert main([*args, "--max-megapixels", "0.01"]) == 1  # 1: a file was skipped
        assert "big.png: enlarged 2 times it would be 0.014 megapixels" in capsys.readouterr().err
        assert [p.name for p in out.iterdir()] == ["old.png"]
        assert np.asarray(Image.open(out / "old.png")).shape == (60, 52, 3)
    for run in (restorer, enlarger):
        assert main(["gallery", str(run), "--out", str(tmp_path / f"g_{run.name}")]) == 0
        page = (tmp_path / f"g_{run.name}" / "index.html").read_text()
        assert "<th>degraded</th>" in page and page.count("<th>clean</th>") == 1
        onnx = tmp_path / f"{run.name}.onnx"
        assert main(["export", str(run), "--format", "onnx", "--out", str(onnx)]) == 0


def test_the_restorer_losses_are_weighed_by_their_keys(tmp_path: Path) -> None:
    """L1, the squared error and the adversarial term, each times its key (the perceptual term
    needs VGG weights; tests/models covers it)."""
    import torch

    from gan_style.models import build_model

    losses = {}
    for gan, l1, l2 in ((1.0, 100.0, 0.0), (0.0, 50.0, 3.0)):
        cfg = restoration_config(
            tmp_path, tmp_path / "runs", loss={"lambda_gan": gan, "lambda_l1": l1, "lambda_l2": l2}
        )
        torch.manual_seed(0)
        model = build_model(cfg)
        batch = {"A": torch.rand(2, 3, 32, 32) * 2 - 1, "B": torch.rand(2, 3, 32, 32) * 2 - 1}
        losses[gan] = model.generator_step(batch)
        out = model.G_AB(batch["A"])
    assert losses[1.0]["G/gan"] > 0 and losses[0.0]["G/gan"] == 0
    assert torch.isclose(losses[1.0]["G/l1"], 2 * losses[0.0]["G/l1"])
    assert "G/l2" not in losses[1.0]
    squared = ((out - batch["B"]) ** 2).mean().item()
    assert losses[0.0]["G/l2"].item() == pytest.approx(3 * squared, rel=1e-5)
    total = losses[0.0]["G/l1"] + losses[0.0]["G/l2"]
    assert torch.isclose(losses[0.0]["G/total"], total)


@pytest.mark.parametrize("gan", [1.0, 0.0])
def test_without_its_term_the_discriminator_is_not_trained(tmp_path: Path, gan: float) -> None:
    """With `loss.lambda_gan` 0 an iteration runs no discriminator step: its weights stay as
    they were, and the generator still learns; with the term both change."""
    import torch

    from gan_style.models import build_model
    from gan_style.training.iteration import GanIteration

    cfg = restoration_config(tmp_path, tmp_path / "runs", loss={"lambda_gan": gan})
    torch.manual_seed(0)
    model = build_model(cfg)
    before = {n: [p.detach().clone() for p in net.parameters()]
              for n, net in (("G", model.G_AB), ("D", model.D))}  # fmt: skip
    iteration = GanIteration.build(model, replace(cfg.train, precision="fp32"), torch.device("cpu"))
    batch = {"A": torch.rand(2, 3, 32, 32) * 2 - 1, "B": torch.rand(2, 3, 32, 32) * 2 - 1}
    _, d_losses = iteration(batch)
    changed = {}
    for n, net in (("G", model.G_AB), ("D", model.D)):
        pairs = zip(before[n], net.parameters(), strict=True)
        changed[n] = any(not torch.equal(a, b.detach()) for a, b in pairs)
    assert changed == {"G": True, "D": gan > 0}
    assert ("D/total" in d_losses) == (gan > 0)
