"""`gan-style translate` on files and folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_style.cli import main

pytestmark = pytest.mark.slow


def odd_inputs(folder: Path) -> dict[str, tuple[int, int]]:
    """Files of several kinds and sizes; returns name -> expected (width, height)."""
    (folder / "nested").mkdir(parents=True)
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (53, 37, 3), dtype=np.uint8)).save(folder / "odd.png")
    Image.fromarray(rng.integers(0, 256, (20, 30), dtype=np.uint8)).save(
        folder / "nested" / "gray.png"
    )
    Image.fromarray(rng.integers(0, 256, (16, 24, 4), dtype=np.uint8)).save(folder / "alpha.png")
    rotated = Image.fromarray(rng.integers(0, 256, (30, 50, 3), dtype=np.uint8))
    exif = rotated.getexif()
    exif[0x0112] = 6
    rotated.save(folder / "phone.jpg", exif=exif)
    return {
        "odd.png": (37, 53),
        "nested/gray.png": (30, 20),
        "alpha.png": (24, 16),
        "phone.jpg": (30, 50),
    }


def test_translate_files_and_folders(run_dir: Path, tmp_path: Path, capsys) -> None:
    expected = odd_inputs(tmp_path / "in")
    out = tmp_path / "out"
    assert (
        main(
            ["translate", str(run_dir), str(tmp_path / "in"), "--out", str(out), "--device", "cpu"]
        )
        == 0
    )
    for name, size in expected.items():
        assert Image.open(out / name).size == size, name
    assert "wrote 4 image(s)" in capsys.readouterr().out
    single = tmp_path / "single"
    odd = str(tmp_path / "in" / "odd.png")
    argv = [
        "translate",
        str(run_dir / "latest.pt"),
        odd,
        "--out",
        str(single),
        "--direction",
        "BtoA",
    ]
    argv += ["--tile", "16"]
    assert main(argv) == 0 and Image.open(single / "odd.png").size == (37, 53)


def test_translate_errors(run_dir: Path, tmp_path: Path, capsys) -> None:
    assert (
        main(["translate", str(run_dir), str(tmp_path / "missing.png"), "--out", str(tmp_path)])
        == 2
    )
    assert "input" in capsys.readouterr().err
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for d in ("a", "b"):
        Image.new("RGB", (8, 8)).save(tmp_path / d / "same.png")
    assert (
        main(
            [
                "translate",
                str(run_dir),
                str(tmp_path / "a"),
                str(tmp_path / "b"),
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    assert "would both be written as same.png" in capsys.readouterr().err
