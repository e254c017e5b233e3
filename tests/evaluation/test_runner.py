"""End to end: scoring during training, `gan-style evaluate` and `gan-style compare`."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from gan_style.cli import main
from gan_style.config import ConfigError, load_config
from gan_style.data.demo import build_demo_dataset
from gan_style.evaluation.runner import HeldOutSet
from gan_style.inference import Generators, load_generators
from gan_style.models import build_model
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
    assert metrics["step"] == 6
    assert set(metrics["metrics"]) == {
        "ssim_AB",
        "psnr_AB",
        "cycle_ssim_A",
        "cycle_psnr_A",
        "cycle_ssim_B",
        "cycle_psnr_B",
    }
    best = metrics["best"]
    assert best["metric"] == "ssim_AB" and best["step"] in (2, 4, 6)
    assert ckpt.load(run_dir / "best.pt")["step"] == best["step"]
    tags = EventAccumulator(str(run_dir)).Reload().Tags()["scalars"]
    assert {"Eval/ssim_AB", "Eval/cycle_psnr_B"} <= set(tags)


def test_metric_without_ground_truth_is_refused(make_config) -> None:
    with pytest.raises(
        ConfigError, match=r"eval.metric=ssim_AB cannot be computed.*use one of cycle_ssim_A"
    ):
        train(make_config(eval={"every": 2, "metric": "ssim_AB"}), run="nogt")


def test_evaluate_command(
    paired_dataset: Path, make_config, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    run_dir = train(make_config(train={"max_steps": 2}), run="ev")
    from torchvision.models import inception_v3

    torch.manual_seed(0)
    weights = tmp_path / "inception.pth"
    torch.save(
        inception_v3(weights=None, aux_logits=True, init_weights=False).state_dict(), weights
    )
    out = tmp_path / "eval"
    argv = [
        "evaluate",
        str(run_dir),
        "--out",
        str(out),
        "--device",
        "cpu",
        "--inception-weights",
        str(weights),
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "paired    AtoB" in printed and "fid" in printed

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
    assert (
        set(summary["metrics"]["fid"]) == {"AtoB", "BtoA"}
        and "mean" in summary["metrics"]["kid"]["AtoB"]
    )


def test_evaluate_without_weights_still_scores(
    make_config, tmp_path: Path, capsys, monkeypatch
) -> None:
    from gan_style.errors import EvaluationError
    from gan_style.evaluation import distribution

    def offline(weights=None):
        raise EvaluationError("no Inception-v3 weights: the download failed (URLError)")

    monkeypatch.setattr(distribution, "load_inception", offline)
    run_dir = train(make_config(train={"max_steps": 1}), run="nofid")
    assert main(["evaluate", str(run_dir / "latest.pt"), "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    assert "note: FID/KID skipped: no Inception-v3 weights" in printed
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
    assert header[:2] == ["run", "step"] and "eval/ssim_AB" in header and header[-1] == "train.lr"
    assert len(lines) == 3 and lines[2].endswith(",0.001")
    assert main(["compare", str(a), str(b), "--format", "markdown"]) == 0
    assert capsys.readouterr().out.startswith("| run | step |")


def test_demo_training_beats_the_untrained_generator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo experiment, on a small copy of its data: paired SSIM rises with training."""
    monkeypatch.chdir(REPO)
    root = build_demo_dataset(tmp_path / "demo", per_source=6, test_per_source=4, size=48)
    overrides = [
        f"data.root={root}", f"log.runs_dir={tmp_path / 'runs'}", "data.load_size=44",
        "data.crop_size=40", "train.max_steps=60", "data.num_workers=0", "eval.every=0",
    ]  # fmt: skip
    cfg = load_config("demo", overrides)
    held_out = HeldOutSet.from_config(cfg, n=8)
    torch.manual_seed(cfg.train.seed)  # the generators exactly as training starts them
    untrained = build_model(cfg).eval()
    before = held_out.score(Generators(untrained.G_AB, untrained.G_BA, cfg, 0, tmp_path, 4))
    run_dir = train(cfg, run="short")
    after = held_out.score(load_generators(run_dir / "generator.pt"))
    assert after["ssim_AB"] > before["ssim_AB"] + 0.1


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
    from gan_style.evaluation import distribution

    def offline(weights=None):
        raise EvaluationError("no Inception-v3 weights (offline)")

    monkeypatch.setattr(distribution, "load_inception", offline)
    run = train(make_config(train={"max_steps": 1}), run="c")
    out = tmp_path / "e"
    assert main(["evaluate", str(run), "--protocol", "content", "--out", str(out)]) == 0
    assert "note: FID/KID skipped: no Inception-v3 weights" in capsys.readouterr().out
