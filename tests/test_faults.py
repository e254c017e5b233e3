"""The faults real machines have, as a user meets them on the command line: a disk that fills
mid-command, and output folders that cannot be written. Each is one line (no traceback), a
non-zero status, nothing written before damaged and no partial file under a final name."""

from __future__ import annotations

import errno
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from gan_style import disk, export, image_io
from gan_style.cli import main
from gan_style.config import dump
from gan_style.evaluation import report
from gan_style.runtime import checkpoint as ckpt
from gan_style.training import logger
from tests.conftest import write_images

Writer = Callable[[Path, Callable], None]


def full_when(real: Writer, full: Callable[[Path], bool]) -> Writer:
    """`write_atomic` on a disk that is full for the files `full` picks: half the file is
    written, then the write fails as the kernel reports it."""

    def write(path: Path, fill: Callable) -> None:
        if not full(path):
            return real(path, fill)

        def half(f) -> None:
            f.write(b"\0" * 100)
            raise OSError(errno.ENOSPC, "No space left on device")

        return real(path, half)

    return write


def one_error_line(err: str) -> str:
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def partial_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp") or ".export-" in p.name]


def test_translate_on_a_full_disk_stops_and_skip_existing_finishes(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    write_images(tmp_path / "in", 5)
    out = tmp_path / "out"
    argv = ["translate", str(run_dir), str(tmp_path / "in"), "--out", str(out), "--device", "cpu"]
    real = image_io.write_atomic  # translations are written by image_io.save_pil
    monkeypatch.setattr(image_io, "write_atomic", full_when(real, lambda p: p.name >= "img_002"))
    assert main(argv) == 1
    line = one_error_line(capsys.readouterr().err)
    assert f"no space left on the disk to write {out / 'img_002.png'} (" in line
    assert "free some space and run the same command with --skip-existing" in line
    written = sorted(p.name for p in out.iterdir())
    assert written == ["img_000.png", "img_001.png"] and not partial_files(out)
    before = {name: (out / name).stat().st_mtime_ns for name in written}
    for name in written:
        Image.open(out / name).load()  # whole

    monkeypatch.setattr(image_io, "write_atomic", real)  # space again
    assert main(argv) == 2 and "--skip-existing" in capsys.readouterr().err
    assert main([*argv, "--skip-existing"]) == 0
    assert "kept 2 existing output(s)" in capsys.readouterr().err
    assert len(list(out.iterdir())) == 5
    assert {name: (out / name).stat().st_mtime_ns for name in written} == before  # untouched
    assert main([*argv, "--skip-existing", "--overwrite"]) == 2


def test_training_stops_on_a_full_disk_wherever_it_writes(
    make_config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """A sample grid, metrics.json, TensorBoard's events: each stops the run with status 1,
    saying from which checkpoint and step a rerun resumes; the rerun finishes."""
    cfg = make_config(train={"max_steps": 6, "save_every": 2},
                      log={"sample_every": 3, "every": 1}, eval={"every": 5})  # fmt: skip
    config = tmp_path / "full.yaml"
    config.write_text(dump(cfg))
    run_dir = Path(cfg.log.runs_dir) / "tiny" / "default"

    def events_full(self, *args) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    faults = [
        (logger, "write_atomic", lambda real: full_when(real, lambda p: "samples" in p.parts),
         "samples/step_0000003.png", 2),
        (report, "write_atomic", lambda real: full_when(real, lambda p: p.name == "metrics.json"),
         "metrics.json", 4),
        (logger.RunLogger, "scalars", lambda real: events_full, "the run's files", 4),
    ]  # fmt: skip
    for owner, name, fault, what, step in faults:
        with monkeypatch.context() as m:
            m.setattr(owner, name, fault(getattr(owner, name)))
            assert main(["train", str(config), "train.max_steps=" + str(step + 2)]) == 1, what
        line = one_error_line(capsys.readouterr().err)
        assert what in line and f"a rerun resumes from latest.pt at step {step}" in line, line
        assert not partial_files(run_dir)
        assert ckpt.load(run_dir / "latest.pt")["step"] == step
    assert main(["train", str(config)]) == 0
    assert ckpt.load(run_dir / "latest.pt")["step"] == 6


def test_gallery_and_export_on_a_full_disk(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    write_images(tmp_path / "in", 3)
    out = tmp_path / "gallery"
    real = image_io.write_atomic
    monkeypatch.setattr(image_io, "write_atomic", full_when(real, lambda p: "step_" in str(p)))
    argv = ["gallery", str(run_dir), "--images", str(tmp_path / "in"), "--out", str(out)]
    assert main(argv) == 1
    line = one_error_line(capsys.readouterr().err)
    assert f"the gallery in {out} is incomplete" in line and not partial_files(out)

    def onnx_full(generator, example, path: Path, *args) -> None:
        path.write_bytes(b"\0" * 100)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export, "write_onnx", onnx_full)
    model = tmp_path / "g.onnx"
    assert main(["export", str(run_dir), "--format", "onnx", "--out", str(model)]) == 1
    assert f"to write {model} (" in one_error_line(capsys.readouterr().err)
    assert list(tmp_path.glob("*.onnx")) == [] and not partial_files(tmp_path)


def test_any_other_full_disk_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    def no_space(self, path, *args, **kwargs) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(Image.Image, "save", no_space)
    assert main(["data", "demo", "--root", str(tmp_path / "demo")]) == 1
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith(f"error: no space left on the disk to write {tmp_path / 'demo'}")


@pytest.mark.parametrize("command", ["translate", "gallery", "export", "train", "evaluate"])
def test_an_output_folder_that_cannot_be_written_is_refused_before_any_work(
    command: str, run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """As a read-only disk answers (root, who runs CI, may write anywhere else)."""
    locked = tmp_path / "locked"
    locked.mkdir()
    real_open = disk.os.open

    def read_only(path, *args):
        if Path(path).parent == locked:
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, *args)

    def no_work(*_args, **_kwargs):
        raise AssertionError("work started")

    monkeypatch.setattr(disk.os, "open", read_only)
    monkeypatch.setattr("gan_style.inference.generators.load_generators", no_work)
    monkeypatch.setattr("gan_style.training.loop.train", no_work)
    write_images(tmp_path / "in", 1)
    out = str(locked / "out")
    argv = {
        "translate": ["translate", str(run_dir), str(tmp_path / "in"), "--out", out],
        "gallery": ["gallery", str(run_dir), "--out", out],
        "export": ["export", str(run_dir), "--format", "onnx", "--out", str(locked / "g.onnx")],
        "train": ["train", str(run_dir / "config.yaml"), f"log.runs_dir={locked}"],
        "evaluate": ["evaluate", str(run_dir), "--out", out],
    }[command]
    assert main(argv) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f": the disk is read-only in {locked}; choose another" in line
    assert list(locked.iterdir()) == []
