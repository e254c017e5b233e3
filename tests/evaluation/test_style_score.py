"""The offline style score: a domain classifier trained on a dataset's two training folders,
its deception rate, and where `evaluate` and training report it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_style.cli import main
from gan_style.errors import EvaluationError
from gan_style.evaluation import style_score
from gan_style.evaluation.style_score import load_judge, train_judge
from gan_style.image_io import find_images, load_readable
from gan_style.training.loop import train
from tests.conftest import tiny_config


def write_domain(folder: Path, count: int, striped: bool, seed: int) -> None:
    """A: smooth warm gradients; B: cool images with fine stripes (a "brush stroke" texture)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:72, 0:80] / 80
    for i in range(count):
        base = rng.uniform(0.3, 0.7)
        if striped:
            stripes = 0.25 * np.sign(np.sin(xx * rng.uniform(60, 90) + yy * 20))
            image = np.stack([base * 0.4 + stripes, base * 0.6 + stripes, base + stripes], -1)
        else:
            ramp = base + 0.3 * (xx + yy) / 2
            image = np.stack([ramp, ramp * 0.7, ramp * 0.4], -1)
        pixels = (np.clip(image, 0, 1) * 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"{i:03d}.png")


@pytest.fixture(scope="module")
def two_domains(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("domains")
    for split, count, seed in (("train", 10, 0), ("test", 6, 100)):
        write_domain(root / f"{split}A", count, striped=False, seed=seed)
        write_domain(root / f"{split}B", count, striped=True, seed=seed + 1)
    return root


def images(folder: Path) -> list[np.ndarray]:
    return load_readable(find_images(folder))[1]


def test_real_target_images_score_high_and_untouched_inputs_low(two_domains: Path) -> None:
    judge = load_judge(two_domains)
    assert judge.accuracy >= 0.9
    assert judge.deception_rate(images(two_domains / "testB"), "B") >= 0.8
    assert judge.deception_rate(images(two_domains / "testA"), "B") <= 0.2
    assert judge.deception_rate(images(two_domains / "testA"), "A") >= 0.8


def test_the_judge_is_cached_per_dataset_and_a_damaged_cache_is_trained_again(
    two_domains: Path,
) -> None:
    first = load_judge(two_domains)
    probe = images(two_domains / "testA")[:2]
    cached = list((style_score.disk.cache_dir() / "style_judge").glob("*.pt"))
    assert cached
    for path in cached:
        path.write_bytes(b"not a checkpoint")
    again = load_judge(two_domains)  # trained again, with the same seed and recipe
    assert np.array_equal(first.probability_b(probe), again.probability_b(probe))


def test_training_the_judge_leaves_the_callers_random_stream_alone(
    two_domains: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(style_score.RECIPE, "steps", 5)  # the stream, not the judge, is checked
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    train_judge(find_images(two_domains / "trainA"), find_images(two_domains / "trainB"))
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("count", [0, 1])
def test_a_domain_with_too_few_images_gets_one_line(tmp_path: Path, count: int) -> None:
    write_domain(tmp_path / "trainA", 6, striped=False, seed=0)
    (tmp_path / "trainB").mkdir()
    write_domain(tmp_path / "trainB", count, striped=True, seed=1)
    with pytest.raises(EvaluationError, match=rf"at least 5 images in .*trainB \(found {count}\)"):
        load_judge(tmp_path)


def test_domains_it_cannot_separate_give_no_rate(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(style_score.RECIPE, "steps", 20)  # no number of steps tells them apart
    write_domain(tmp_path / "trainA", 10, striped=False, seed=0)
    shutil.copytree(tmp_path / "trainA", tmp_path / "trainB")  # the same images twice
    with pytest.raises(EvaluationError, match=r"cannot tell .* would mean nothing"):
        load_judge(tmp_path)


@pytest.mark.slow
def test_evaluate_and_training_report_the_deception_rate(two_domains: Path, tmp_path: Path) -> None:
    cfg = tiny_config(
        two_domains, tmp_path / "runs",
        eval={"every": 2, "metric": "deception_AB", "num_images": 4}, train={"max_steps": 2},
    )  # fmt: skip
    run_dir = train(cfg, run="judged")
    scores = json.loads((run_dir / "metrics.json").read_text())["last"]["metrics"]
    assert {"deception_AB", "deception_BA", "content_ssim_AB", "content_ssim_BA"} <= set(scores)
    assert 0 <= scores["deception_AB"] <= 1 and 0 < scores["content_ssim_AB"] <= 1

    out = tmp_path / "eval"
    argv = ["evaluate", str(run_dir), "--out", str(out), "--no-fid", "--no-lpips"]
    assert main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    style = summary["metrics"]["style"]
    assert set(style) == {"AtoB", "BtoA", "real B (reference)", "untouched A (reference)"}
    assert style["real B (reference)"]["deception"]["mean"] >= 0.8
    assert style["untouched A (reference)"]["deception"]["mean"] <= 0.2
    assert summary["computed_with"]["style"]["classifier_accuracy"] >= 0.9
    # The fraction is of the 6 held-out images, each judged once.
    assert style["AtoB"]["deception"]["n"] == 6

    skipped = tmp_path / "eval_without"
    assert main([*argv[:3], str(skipped), "--no-fid", "--no-lpips", "--no-style-score"]) == 0
    assert "style" not in json.loads((skipped / "summary.json").read_text())["metrics"]
    assert main(["compare", str(run_dir)]) == 0


def test_evaluate_notes_a_dataset_without_a_style_score(run_dir: Path, tmp_path: Path) -> None:
    """The tiny dataset has 4 and 3 training images: a note, the other scores as before."""
    out = tmp_path / "eval"
    assert main(["evaluate", str(run_dir), "--out", str(out), "--no-fid", "--no-lpips"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert "style" not in summary["metrics"] and "content" in summary["metrics"]
    assert any("style score skipped" in n and "at least 5 images" in n for n in summary["notes"])
