"""Sketch data: XDoG line drawings of any image folder, paired with their images for pix2pix,
either way round, and the commands on a model trained on them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_style.cli import main
from gan_style.data import build_dataset
from gan_style.data.held_out import held_out_images
from gan_style.data.paired import find_pairs, load_pair
from gan_style.data.sketch import colour_hints, hint_mask, hint_side, line_drawing
from gan_style.errors import ConfigError
from gan_style.evaluation.baselines import baselines, nearest_hint_fill
from gan_style.training.loop import train
from tests.conftest import tiny_config, write_images


def square(size: int = 40, side: int = 20) -> np.ndarray:
    """A black square on white, RGB."""
    image = np.full((size, size, 3), 255, np.uint8)
    lo = (size - side) // 2
    image[lo : lo + side, lo : lo + side] = 0
    return image


def test_a_square_is_drawn_as_its_outline() -> None:
    drawing = line_drawing(square())
    assert drawing.shape == (40, 40, 3) and drawing.dtype == np.uint8
    assert (drawing[..., 0] == drawing[..., 2]).all()  # grey
    ink = drawing[..., 0] < 128
    assert not ink[:5].any() and not ink[18:22, 18:22].any()  # paper away from the edges
    assert ink[20, 9:12].any() and ink[9:12, 20].any()  # a line along each side
    assert ink.sum() < 0.2 * ink.size  # an outline, not a fill
    assert np.array_equal(drawing, line_drawing(square()))  # deterministic
    grey = line_drawing(square()[..., :1])
    assert grey.shape == (40, 40, 1) and np.array_equal(grey[..., 0], drawing[..., 0])


def test_thickness_and_threshold_set_how_much_ink() -> None:
    photo = np.asarray(
        Image.fromarray(np.uint8(np.random.default_rng(0).integers(0, 255, (8, 8, 3)))).resize(
            (64, 64), Image.BICUBIC
        )
    )
    ink = {
        k: (line_drawing(photo, *k)[..., 0] < 128).sum()
        for k in [(1.0, -0.005), (2.0, -0.005), (1.0, -0.02)]
    }
    assert ink[(2.0, -0.005)] > ink[(1.0, -0.005)] > ink[(1.0, -0.02)] > 0
    flat = np.full((32, 32, 3), 90, np.uint8)
    assert (line_drawing(flat) == 255).all()  # a flat image is a blank page


def sketch_config(root: Path, runs: Path, **overrides: dict):
    model = {"name": "pix2pix", "generator": "resnet_6blocks", "discriminator": "n_layers",
             "n_layers_d": 2, "norm": "instance", "global_skip": False,
             "skip_filter": False}  # fmt: skip
    data = {"dataset_mode": "sketch"} | overrides.pop("data", {})
    return tiny_config(root, runs, model=model | overrides.pop("model", {}), data=data,
                       train={"max_steps": 3, "pool_size": 0}, eval={"metric": "ssim_AB"},
                       **overrides)  # fmt: skip


def test_the_baselines_a_sketch_model_must_beat(tmp_path: Path) -> None:
    root = tmp_path / "photos"
    write_images(root / "train", 2, size=(8, 10), seed=1)
    cfg = sketch_config(root, tmp_path / "runs", data={"direction": "BtoA"})
    photos = [np.asarray(Image.open(p)) for p in sorted((root / "train").iterdir())]
    drawing = line_drawing(photos[0])
    made = baselines(cfg, [drawing])
    mean = np.rint(np.mean([p.reshape(-1, 3).mean(0) for p in photos], 0))
    assert np.array_equal(made["flat mean-colour fill"][0], np.broadcast_to(mean, drawing.shape))
    assert made["the drawing itself"][0] is drawing
    forward = baselines(sketch_config(root, tmp_path / "runs"), [photos[0]])
    assert (forward["blank page"][0] == 255).all()
    assert np.array_equal(forward["XDoG at default settings"][0], drawing)
    assert baselines(tiny_config(root, tmp_path / "runs"), [photos[0]]) == {}


def test_any_image_folder_pairs_with_its_drawings_either_way(tmp_path: Path) -> None:
    root = tmp_path / "photos"
    write_images(root / "train", 3, size=(40, 48), seed=1)
    write_images(root / "test", 2, size=(40, 48), seed=2)
    cfg = sketch_config(root, tmp_path / "runs", data={"flip": False})
    item = build_dataset(cfg.data, "train", seed=1)[(0, 0)]
    a, b = item["A"], item["B"]
    assert a.shape == b.shape == (3, 32, 32) and item["A_paths"] == item["B_paths"]
    assert np.allclose(b[0], b[2]) and not np.allclose(a[0], a[2])  # the drawing is grey
    held = held_out_images(cfg)
    photo = np.asarray(Image.open(root / "test" / "img_000.png"))
    assert np.array_equal(held.truths["A"][0], line_drawing(photo))  # ground truth, full size
    colour = sketch_config(root, tmp_path / "runs", data={"direction": "BtoA"})
    held_back = held_out_images(colour)
    assert np.array_equal(held_back.inputs["A"][0], line_drawing(photo))
    assert np.array_equal(held_back.truths["A"][0], photo)
    with pytest.raises(ConfigError, match=r"use model\.name=pix2pix"):
        sketch_config(root, tmp_path / "runs", model={"name": "cycle_gan"})
    with pytest.raises(ConfigError, match="sketch_thickness must be above 0"):
        sketch_config(root, tmp_path / "runs", data={"sketch_thickness": 0})


def test_colour_hints_are_squares_of_the_image_colour_there() -> None:
    image = np.zeros((48, 48, 3), np.uint8)
    image[:, :24] = (200, 30, 30)  # red left, blue right
    image[:, 24:] = (30, 30, 200)
    drawing = line_drawing(image)
    assert not hint_mask(drawing).any()  # lines and paper are grey
    hinted = colour_hints(drawing, image, 5, np.random.default_rng(0))
    changed = (hinted != drawing).any(axis=2)
    side = hint_side(48, 48)
    assert side == 6 and 0 < changed.sum() <= 5 * side * side
    for y, x in zip(*np.nonzero(changed), strict=True):
        # each hint is the image's mean colour over its square: the edge square mixes the two
        assert np.abs(hinted[y, x].astype(int) - image[y, x]).max() <= 85
    assert np.array_equal(hint_mask(hinted), changed)
    assert np.array_equal(colour_hints(drawing, image, 0, np.random.default_rng(0)), drawing)


def test_hints_are_random_in_training_and_fixed_held_out(tmp_path: Path) -> None:
    root = tmp_path / "photos"
    write_images(root / "train", 2, size=(48, 48), seed=1)
    cfg = sketch_config(root, tmp_path / "runs", data={"direction": "BtoA", "sketch_hints": 6})
    pair = find_pairs(cfg.data, "train")[0]
    held, again = load_pair(pair, cfg.data), load_pair(pair, cfg.data)
    assert np.array_equal(held[0], again[0]) and hint_mask(held[0]).any()
    photo = np.asarray(Image.open(pair[0]))
    assert np.array_equal(held[1], photo)  # the target has no hints
    counts = set()
    for seed in range(12):
        drawing, _ = load_pair(pair, cfg.data, np.random.default_rng(seed))
        counts.add(int((drawing != line_drawing(photo)).any(axis=2).sum()))
    assert 0 in counts and len(counts) > 3  # none, some and more: the model learns both
    plain = sketch_config(root, tmp_path / "runs", data={"direction": "BtoA"})
    assert not hint_mask(load_pair(pair, plain.data)[0]).any()  # no hints unless asked
    with pytest.raises(ConfigError, match=r"data\.sketch_hints colours the drawings"):
        sketch_config(root, tmp_path / "runs", data={"sketch_hints": 4})  # image -> drawing
    with pytest.raises(ConfigError, match="0 or more"):
        sketch_config(root, tmp_path / "runs", data={"direction": "BtoA", "sketch_hints": -1})


def test_the_nearest_hint_baseline_spreads_each_hint_and_keeps_the_lines() -> None:
    drawing = np.full((20, 40, 3), 255, np.uint8)
    drawing[:, 19:21] = 0  # a line down the middle
    drawing[9:11, 4:6] = (220, 20, 20)
    drawing[9:11, 34:36] = (20, 20, 220)
    filled = nearest_hint_fill(drawing, np.array([128, 128, 128]))
    assert (filled[:, :15] == (220, 20, 20)).all() and (filled[:, 25:] == (20, 20, 220)).all()
    assert (filled[:, 19:21] == 0).all()
    plain = nearest_hint_fill(np.full((8, 8, 3), 255, np.uint8), np.array([10, 20, 30]))
    assert (plain == (10, 20, 30)).all()


@pytest.mark.slow
def test_colour_filling_trains_and_every_command_takes_a_drawing(tmp_path: Path, capsys) -> None:
    """From a CycleGAN-style trainA/: train a few steps; translate a one-channel drawing with
    an alpha channel, of its own size; evaluate against the held-out photos; gallery; export."""
    root = tmp_path / "photos"
    write_images(root / "trainA", 3, size=(40, 48), seed=1)
    write_images(root / "testA", 2, size=(40, 48), seed=2)
    hinted = {"direction": "BtoA", "sketch_hints": 4}
    run = train(sketch_config(root, tmp_path / "runs", data=hinted), run="c")
    drawing = np.full((30, 26, 4), 255, np.uint8)
    drawing[10:12, 3:20, :3] = 0
    Image.fromarray(drawing, "RGBA").save(tmp_path / "mine.png")
    assert (
        main(["translate", str(run), str(tmp_path / "mine.png"), "--out", str(tmp_path / "t")]) == 0
    )
    assert np.asarray(Image.open(tmp_path / "t" / "mine.png")).shape == (30, 26, 3)
    assert main(["evaluate", str(run), "--no-fid", "--no-lpips", "--out", str(tmp_path / "e")]) == 0
    table = capsys.readouterr().out
    assert "AtoB (baseline: the drawing itself)" in table and "flat mean-colour fill" in table
    summary = json.loads((tmp_path / "e" / "summary.json").read_text())["metrics"]["paired"]
    drawing = summary["AtoB (baseline: the drawing itself)"]["ssim"]["mean"]
    flat = summary["AtoB (baseline: flat mean-colour fill)"]["ssim"]["mean"]
    assert 0 < flat < 1 and drawing < 1 and "AtoB" in summary
    assert "AtoB (baseline: hints spread to the nearest)" in summary
    bare = ["evaluate", str(run), "--no-fid", "--no-lpips", "--hints", "0"]
    assert main([*bare, "--out", str(tmp_path / "e0")]) == 0  # the drawings without hints
    summary = json.loads((tmp_path / "e0" / "summary.json").read_text())["metrics"]["paired"]
    assert "AtoB (baseline: hints spread to the nearest)" not in summary
    for folder, colour in (("e", True), ("e0", False)):
        drawings = (tmp_path / folder / "images" / "baseline_the_drawing_itself").glob("*.png")
        assert any(hint_mask(np.asarray(Image.open(p))).any() for p in drawings) is colour
    assert main(["gallery", str(run), "--out", str(tmp_path / "g")]) == 0
    assert "target" in (tmp_path / "g" / "index.html").read_text()
    assert main(["export", str(run), "--format", "onnx", "--out", str(tmp_path / "c.onnx")]) == 0


@pytest.mark.slow
@pytest.mark.parametrize("model", ["cycle_gan", "cut"])
def test_unaligned_models_learn_from_real_one_channel_drawings(
    model: str, tmp_path: Path, capsys
) -> None:
    """Drawings saved as one-channel (mode L) PNGs in trainB/, colour photos in trainA/: load,
    train, translate a photo to a drawing, evaluate."""
    root = tmp_path / "drawings"
    write_images(root / "trainA", 3, seed=1)
    write_images(root / "testA", 2, seed=2)
    for split, count in (("trainB", 3), ("testB", 2)):
        (root / split).mkdir(parents=True)
        for i in range(count):
            ink = line_drawing(square(40, 12 + 4 * i))[..., 0]
            Image.fromarray(ink, "L").save(root / split / f"d{i}.png")
    extra = {"model": {"name": model}} if model == "cut" else {}
    run = train(tiny_config(root, tmp_path / "runs", train={"max_steps": 2}, **extra), run="d")
    photo = root / "testA" / "img_000.png"
    assert main(["translate", str(run), str(photo), "--out", str(tmp_path / "t")]) == 0
    assert np.asarray(Image.open(tmp_path / "t" / "img_000.png")).shape == (40, 48, 3)
    assert main(["evaluate", str(run), "--no-fid", "--no-lpips", "--out", str(tmp_path / "e")]) == 0
    assert "content" in capsys.readouterr().out
