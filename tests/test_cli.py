from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml
from PIL import Image

from gan_style.cli import main
from gan_style.data import download
from gan_style.runtime import checkpoint as ckpt

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


def error_line(capsys: pytest.CaptureFixture, argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "demoo"], "error: no experiment 'demoo' in experiments/; did you mean 'demo'?"),
        (
            ["train", "demo", "train.lrr=1"],
            "error: unknown config key 'train.lrr'; did you mean 'train.lr'?",
        ),
        (
            ["train", "demo", "model.norm=layer"],
            "error: model.norm: 'layer' is not one of instance, batch, none",
        ),
        (
            ["train", "monet", "data.root=/nonexistent/monet2photo"],
            "gan-style data download monet2photo",
        ),
        (["data", "download", "zebra2horse"], "error: unknown dataset 'zebra2horse'"),
    ],
)
def test_error_lines(capsys: pytest.CaptureFixture, argv: list[str], message: str) -> None:
    assert message in error_line(capsys, argv)


def test_offline_download(
    capsys: pytest.CaptureFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(download, "CYCLEGAN_URL", (tmp_path / "offline").as_uri() + "/{name}.zip")
    line = error_line(capsys, ["data", "download", "monet2photo", "--root", str(tmp_path)])
    assert "could not download" in line and "Without network" in line


def test_dry_run_prints_resolved_config(capsys: pytest.CaptureFixture) -> None:
    assert main(["train", "monet", "--dry-run", "train.lr=1e-4", "--run", "x"]) == 0
    cfg = yaml.safe_load(capsys.readouterr().out)
    assert cfg["name"] == "monet" and cfg["train"]["lr"] == 1e-4 and cfg["model"]["ngf"] == 64


def test_stray_argument(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["train", "demo", "--epochs", "3"])
    assert "unrecognized arguments: --epochs 3" in capsys.readouterr().err


def test_corrupt_checkpoint_on_resume(
    capsys: pytest.CaptureFixture, tiny_dataset: Path, tmp_path: Path
) -> None:
    run_dir = tmp_path / "runs" / "demo" / "default"
    run_dir.mkdir(parents=True)
    (run_dir / "latest.pt").write_bytes(b"truncated")
    argv = ["train", "demo", f"data.root={tiny_dataset}", f"log.runs_dir={tmp_path / 'runs'}"]
    assert "latest.pt is not a readable checkpoint" in error_line(capsys, argv)


@pytest.mark.slow
def test_train_from_the_command_line(
    capsys: pytest.CaptureFixture, tiny_dataset: Path, tmp_path: Path
) -> None:
    argv = [
        "train", "demo", "--run", "cli",
        f"data.root={tiny_dataset}", f"log.runs_dir={tmp_path / 'runs'}",
        "data.load_size=36", "data.crop_size=32", "model.ngf=4", "model.ndf=4", "train.max_steps=2",
        "data.num_workers=0", "eval.every=0",
    ]  # fmt: skip
    assert main(argv) == 0
    assert "run folder:" in capsys.readouterr().out
    assert ckpt.load(tmp_path / "runs" / "demo" / "cli" / "latest.pt")["step"] == 2


def checkpoint_like(kind: str, path: Path) -> Path:
    """Files that look like checkpoints but hold something else."""
    from gan_style.config import Config, to_dict

    content = {
        "tensor": torch.zeros(3),
        "list": [1, 2, 3],
        "config_only": {"config": to_dict(Config()), "step": 5},
        "module": torch.nn.Linear(2, 2),
        "model_not_weights": {"config": to_dict(Config()), "model": [1, 2]},
    }[kind]
    torch.save(content, path)
    return path


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("tensor", "holds a Tensor, not a checkpoint"),
        ("list", "holds a list, not a checkpoint"),
        ("config_only", "holds no G_AB weights"),
        ("module", "holds pickled Python objects, which are not loaded, for safety"),
        ("model_not_weights", "its 'model' entry is not a set of weights"),
    ],
)
@pytest.mark.parametrize("command", ["translate", "export", "evaluate"])
def test_checkpoint_like_files_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, kind: str, message: str, command: str
) -> None:
    path = checkpoint_like(kind, tmp_path / "odd.pt")
    Image.new("RGB", (8, 8)).save(tmp_path / "in.png")
    argv = {
        "translate": [
            "translate",
            str(path),
            str(tmp_path / "in.png"),
            "--out",
            str(tmp_path / "o"),
        ],
        "export": ["export", str(path), "--format", "torchscript"],
        "evaluate": ["evaluate", str(path), "--no-fid"],
    }[command]
    err = error_line(capsys, argv)
    assert message in err and "\x1b" not in err


def test_shipped_experiments_are_found_from_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["train", "demo", "--dry-run"]) == 0
    assert "name: demo" in capsys.readouterr().out
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "demo.yaml").write_text("extends: mine.yaml\n")
    (tmp_path / "experiments" / "mine.yaml").write_text("train: {lr: 0.123}\n")
    assert main(["train", "demo", "--dry-run"]) == 0  # the local folder comes first
    assert "lr: 0.123" in capsys.readouterr().out
    assert main(["train", "zzz"]) == 2
    err = capsys.readouterr().err
    assert f"in experiments/ or {REPO / 'experiments'}/" in err and "mine" in err and "monet" in err
