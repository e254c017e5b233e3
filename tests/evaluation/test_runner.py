"""End to end: scoring during training, `gan-style evaluate` and `gan-style compare`."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from gan_style.cli import main
from gan_style.config import ConfigError, load_config
from gan_style.data.demo import build_demo_dataset
from gan_style.evaluation.metrics import ssim
from gan_style.evaluation.runner import HeldOutSet
from gan_style.inference import Generators, load_generators
from gan_style.models import build_model
from gan_style.quality import VARIANTS
from gan_style.runtime import checkpoint as ckpt
from gan_style.training.loop import train
from tests.conftest import REPO

pytestmark = pytest.mark.slow


@pytest.fixture
def paired_dataset(tiny_dataset: Path) -> Path:
    """The tiny dataset plus testB_paired/: ground truth named like testA/ (here: testB's look)."""
    truth = tiny_dataset / "testB_paired"
    truth.mkdir()
    for a, b in zip(
        sorted((tiny_dataset / "testA").iterdir()),
        sorted((tiny_dataset / "testB").iterdir()),
        strict=True,
    ):
        shutil.copy(b, truth / a.name)
    return tiny_dataset


def test_training_scores_held_out_images(make_config, paired_dataset: Path) -> None:
    cfg = make_config(eval={"every": 2, "metric": "ssim_AB", "num_images": 2})
    run_dir = train(cfg, run="eval")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["last"]["step"] == 6 and metrics["metric"] == "ssim_AB"
    assert set(metrics["last"]["metrics"]) == {
        "ssim_AB",
        "psnr_AB",
        "cycle_ssim_A",
        "cycle_psnr_A",
        "cycle_ssim_B",
        "cycle_psnr_B",
        "content_ssim_AB",
        "content_ssim_BA",
    }
    best = metrics["best"]
    events = EventAccumulator(str(run_dir)).Reload()
    logged = {e.step: e.value for e in events.Scalars("Eval/ssim_AB")}
    assert best["step"] == max(logged, key=logged.get)
    assert best["value"] == pytest.approx(max(logged.values()))  # TensorBoard keeps float32
    assert best["metrics"]["ssim_AB"] == best["value"] and set(best["metrics"]) == set(
        metrics["last"]["metrics"]
    )
    assert ckpt.load(run_dir / "best.pt")["step"] == best["step"]
    assert {"Eval/ssim_AB", "Eval/cycle_psnr_B"} <= set(events.Tags()["scalars"])


def test_best_checkpoint_by_kid_is_the_lowest(
    make_config, fid_weights: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gan_style.evaluation import inception
    from gan_style.evaluation.weights import sha256_of

    # The random extractor stands in for the official file: its hash is made the official one.
    monkeypatch.setattr(inception.FID_WEIGHTS, "sha256_prefix", sha256_of(fid_weights)[:8])
    eval_cfg = {"every": 2, "metric": "kid_AB", "num_images": 2,
                "inception_weights": str(fid_weights)}  # fmt: skip
    run_dir = train(make_config(train={"max_steps": 6}, eval=eval_cfg), run="kid")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert {"fid_AB", "kid_AB", "fid_BA", "kid_BA"} <= set(metrics["last"]["metrics"])
    logged = {
        e.step: e.value for e in EventAccumulator(str(run_dir)).Reload().Scalars("Eval/kid_AB")
    }
    assert sorted(logged) == [2, 4, 6] and len(set(logged.values())) > 1
    best = metrics["best"]
    assert best["step"] == min(logged, key=logged.get)
    assert best["value"] == pytest.approx(min(logged.values()))
    assert ckpt.load(run_dir / "best.pt")["step"] == best["step"]


def test_fid_metric_without_weights_stops_before_training(
    make_config, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    cfg = make_config(eval={"every": 2, "metric": "fid_AB",
                            "inception_weights": str(tmp_path / "none.pth")})  # fmt: skip
    from gan_style.config import dump

    (tmp_path / "exp.yaml").write_text(dump(cfg))
    assert main(["train", str(tmp_path / "exp.yaml"), "--run", "nofid"]) == 2
    assert "weights-inception-2015-12-05-6726825d.pth" in capsys.readouterr().err
    assert not list((tmp_path / "runs").rglob("latest.pt"))


def test_metric_without_ground_truth_is_refused(make_config) -> None:
    with pytest.raises(
        ConfigError, match=r"eval.metric=ssim_AB cannot be computed.*use one of cycle_ssim_A"
    ):
        train(make_config(eval={"every": 2, "metric": "ssim_AB"}), run="nogt")


def test_evaluate_command(
    paired_dataset: Path,
    make_config,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
    fid_weights: Path,
    alexnet_weights: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GAN_STYLE_CACHE", str(tmp_path / "cache"))
    run_dir = train(make_config(train={"max_steps": 2}), run="ev")
    out = tmp_path / "eval"
    weights = ["--inception-weights", str(fid_weights), "--lpips-weights", str(alexnet_weights)]
    argv = ["evaluate", str(run_dir), "--out", str(out), "--device", "cpu", *weights]
    assert main(argv) == 0  # neither file is the official one: those scores only are skipped
    printed = capsys.readouterr().out
    assert "FID/KID skipped" in printed and "not the official FID Inception weights" in printed
    assert "LPIPS skipped" in printed and "not the official LPIPS backbone weights" in printed
    assert main([*argv, "--unverified-weights"]) == 0
    printed = capsys.readouterr().out
    assert "paired    AtoB" in printed and "fid" in printed and "lpips" in printed

    for folder in ("fake_B", "rec_A", "fake_A", "rec_B"):
        assert sorted(p.name for p in (out / "images" / folder).iterdir()) == [
            "img_000.png",
            "img_001.png",
        ]
    rows = list(csv.DictReader((out / "per_image.csv").open()))
    by_protocol = {(r["protocol"], r["direction"]) for r in rows}
    assert by_protocol == {
        ("paired", "AtoB"),
        ("cycle", "ABA"),
        ("cycle", "BAB"),
        ("content", "AtoB"),
        ("content", "BtoA"),
    }
    assert len(rows) == 10
    summary = json.loads((out / "summary.json").read_text())
    assert summary["step"] == 2 and summary["split"] == "test"
    stats = summary["metrics"]["cycle"]["ABA"]["psnr"]
    assert set(stats) == {"mean", "std", "median", "min", "max", "n", "ci95"} and stats["n"] == 2
    assert set(summary["metrics"]["paired"]["AtoB"]) == {"ssim", "psnr", "mae", "lpips"}
    fid, kid = summary["metrics"]["fid"], summary["metrics"]["kid"]
    assert set(fid) == {"AtoB", "BtoA"} and "mean" in kid["AtoB"]
    assert fid["AtoB"]["translated_images"] == 2 and fid["AtoB"]["reference_images"] == 2
    assert fid["AtoB"]["reference"]["folder"] == str(out / "images" / "real_B")
    assert kid["AtoB"]["subset_size"] == 2
    used = summary["computed_with"]
    assert used["fid_kid"]["weights"] == fid_weights.name
    assert used["fid_kid"]["standard_weights"] is False and "lpips" in used
    assert {r["lpips"] != "" for r in rows} == {True} and float(rows[0]["mae"]) >= 0
    # Evaluated again: the reference side comes from the cache; --fid-reference replaces it.
    assert main([*argv, "--unverified-weights"]) == 0
    again = json.loads((out / "summary.json").read_text())["metrics"]["fid"]["AtoB"]
    assert again["reference"]["cached"] is True and again["value"] == fid["AtoB"]["value"]
    other = tmp_path / "reference"
    shutil.copytree(paired_dataset / "trainB", other)
    assert main([*argv, "--unverified-weights", "--fid-reference", str(other)]) == 0
    capsys.readouterr()
    replaced = json.loads((out / "summary.json").read_text())["metrics"]["fid"]["AtoB"]
    assert replaced["reference"]["folder"] == str(other) and replaced["reference_images"] == 3


def test_evaluate_without_weights_still_scores(
    make_config, tmp_path: Path, capsys, monkeypatch
) -> None:
    from gan_style.errors import EvaluationError
    from gan_style.evaluation import runner

    def offline(*_a, **_k):
        raise EvaluationError("no FID Inception weights: the download failed (URLError)")

    monkeypatch.setattr(runner, "load_fid_extractor", offline)
    monkeypatch.setattr(runner, "load_lpips", offline)
    run_dir = train(make_config(train={"max_steps": 1}), run="nofid")
    assert main(["evaluate", str(run_dir / "latest.pt"), "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    assert "note: FID/KID skipped: no FID Inception weights" in printed
    assert "note: LPIPS skipped" in printed
    assert "note: skipped: paired protocol needs ground truth" in printed and "cycle" in printed
    assert (run_dir / "eval" / "latest_test" / "summary.json").is_file()


def test_evaluate_errors(make_config, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    run_dir = train(make_config(train={"max_steps": 1}), run="err")
    assert main(["evaluate", str(run_dir), "--protocol", "paired"]) == 2
    assert "paired protocol needs ground truth" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "nothing.pt")]) == 2
    assert "nothing.pt not found" in capsys.readouterr().err


def test_compare_runs(make_config, capsys: pytest.CaptureFixture, paired_dataset: Path) -> None:
    eval_cfg = {"every": 1, "metric": "ssim_AB", "num_images": 2}
    a = train(make_config(train={"max_steps": 1}, eval=eval_cfg), run="a")
    b = train(make_config(train={"max_steps": 1, "lr": 1e-3}, eval=eval_cfg), run="b")
    assert main(["compare", str(a), str(b), "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = lines[0].split(",")
    assert header[:3] == ["run", "step", "best_step"] and header[-1] == "train.lr"
    assert "last/eval/ssim_AB" in header and "best/eval/ssim_AB" in header
    assert len(lines) == 3 and lines[2].endswith(",0.001")
    assert main(["compare", str(a), str(b), "--format", "markdown"]) == 0
    assert capsys.readouterr().out.startswith("| run | step |")


@pytest.mark.parametrize("variant", ["paper", "demo"])
def test_demo_training_beats_the_untrained_generator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variant: str
) -> None:
    """The demo experiment, on a small copy of its data: paired SSIM rises with training. With
    the paper's generator (random at first) by far; with the demo's defaults, whose generators
    start as the identity, above the identity."""
    monkeypatch.chdir(REPO)
    root = build_demo_dataset(tmp_path / "demo", per_source=6, test_per_source=4, size=48)
    overrides = [
        f"data.root={root}", f"log.runs_dir={tmp_path / 'runs'}", "data.load_size=44",
        "data.crop_size=40", "train.max_steps=60", "data.num_workers=0", "eval.every=0",
        *VARIANTS[variant],
    ]  # fmt: skip
    cfg = load_config("demo", overrides)
    held_out = HeldOutSet.from_config(cfg, n=8)
    torch.manual_seed(cfg.train.seed)  # the generators exactly as training starts them
    untrained = build_model(cfg).eval()
    before = held_out.score(Generators(untrained.G_AB, untrained.G_BA, cfg, 0, tmp_path, 4))
    run_dir = train(cfg, run="short")
    after = held_out.score(load_generators(run_dir / "generator.pt"))
    if variant == "paper":
        assert after["ssim_AB"] > before["ssim_AB"] + 0.1
    else:
        pairs = zip(held_out.images["A"], held_out.truth["A"], strict=True)
        identity = np.mean([ssim(a, t) for a, t in pairs])
        assert before["ssim_AB"] == pytest.approx(identity, abs=0.01)
        assert after["ssim_AB"] > before["ssim_AB"] + 0.005


def test_perceptual_loss_term(make_config) -> None:
    """loss.lambda_perceptual adds VGG content terms; the fixed VGG stays out of checkpoints."""
    run_dir = train(
        make_config(
            loss={"lambda_perceptual": 0.5, "vgg_weights": "random"}, train={"max_steps": 2}
        ),
        run="vgg",
    )
    tags = EventAccumulator(str(run_dir)).Reload().Tags()["scalars"]
    assert {"Loss/G/perceptual_A", "Loss/G/perceptual_B"} <= set(tags)
    assert not [k for k in ckpt.load(run_dir / "latest.pt")["model"] if "vgg" in k]


def test_compare_reads_the_step_from_the_checkpoint(make_config, capsys) -> None:
    """A run neither scored nor evaluated still shows its step."""
    run = train(make_config(train={"max_steps": 3}), run="unscored")
    assert main(["compare", str(run), "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split(",")[:2] == [str(run), "3"]


def test_single_protocols_say_why_fid_is_missing(
    make_config, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gan_style.errors import EvaluationError
    from gan_style.evaluation import runner

    def offline(*_a, **_k):
        raise EvaluationError("no FID Inception weights (offline)")

    monkeypatch.setattr(runner, "load_fid_extractor", offline)
    run = train(make_config(train={"max_steps": 1}), run="c")
    out = tmp_path / "e"
    assert main(["evaluate", str(run), "--protocol", "content", "--out", str(out)]) == 0
    assert "note: FID/KID skipped: no FID Inception weights" in capsys.readouterr().out
