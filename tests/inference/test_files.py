"""`gan-style translate` on files and folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_style.cli import main
from tests.conftest import odd_files

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
        "phone.png": (30, 50),  # PNG by default: lossless
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
    argv += ["--tile", "32"]
    assert main(argv) == 0 and Image.open(single / "odd.png").size == (37, 53)


def test_translate_errors(run_dir: Path, tmp_path: Path, capsys) -> None:
    assert (
        main(["translate", str(run_dir), str(tmp_path / "missing.png"), "--out", str(tmp_path)])
        == 2
    )
    assert "missing.png not found" in capsys.readouterr().err
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


def test_every_readable_file_is_translated(run_dir: Path, tmp_path: Path, capsys) -> None:
    """One bad file does not lose the others: each is named in one line, the rest written."""
    expected = odd_files(tmp_path / "in")
    out = tmp_path / "out"
    status = main(["translate", str(run_dir), str(tmp_path / "in"), "--out", str(out)])
    captured = capsys.readouterr()
    assert status == 1  # something was skipped, said at the end
    bad = [name for name, size in expected.items() if size is None]
    lines = [line for line in captured.err.splitlines() if line.startswith("skipped ")]
    assert len(lines) == len(bad) + 1  # one per bad file, and the summary
    for name in bad:
        assert sum(name in line for line in lines) == 1, name
    assert "30000x30000" in captured.err and "Traceback" not in captured.err
    for name, size in expected.items():
        if size is not None:
            assert Image.open(out / Path(name).with_suffix(".png")).size == size, name
    assert f"wrote {len(expected) - len(bad)} image(s)" in captured.out


def test_lanes_write_what_one_image_at_a_time_writes(run_dir: Path, tmp_path: Path) -> None:
    """Two images in flight (the default on 2+ cores) against --lanes 1: same files, same
    pixels within a grey level, the bad files skipped either way."""
    expected = odd_files(tmp_path / "in")
    outs = {lanes: tmp_path / f"lanes{lanes}" for lanes in (1, 2)}
    for lanes, out in outs.items():
        argv = ["translate", str(run_dir), str(tmp_path / "in"), "--out", str(out)]
        assert main([*argv, "--lanes", str(lanes), "--device", "cpu"]) == 1
    names = sorted(p.relative_to(outs[1]) for p in outs[1].rglob("*.png"))
    assert names == sorted(p.relative_to(outs[2]) for p in outs[2].rglob("*.png"))
    assert len(names) == sum(size is not None for size in expected.values())
    for name in names:
        one, two = (np.asarray(Image.open(out / name), dtype=int) for out in outs.values())
        assert np.abs(one - two).max() <= 1, name


def test_the_pixel_limit_is_a_choice(run_dir: Path, tmp_path: Path) -> None:
    odd_files(tmp_path / "in")
    argv = ["translate", str(run_dir), str(tmp_path / "in" / "thin.png"), "--out"]
    assert main([*argv, str(tmp_path / "a"), "--max-megapixels", "0.001"]) == 1
    assert not (tmp_path / "a" / "thin.png").exists()
    assert main([*argv, str(tmp_path / "b"), "--max-megapixels", "0.01"]) == 0


def test_nothing_is_overwritten_unasked(run_dir: Path, tmp_path: Path, capsys) -> None:
    inputs = tmp_path / "in"
    odd_inputs(inputs)
    before = {p: p.read_bytes() for p in inputs.rglob("*") if p.is_file()}
    for out in (inputs, inputs / "nested", tmp_path):  # is, inside, holds an input
        assert main(["translate", str(run_dir), str(inputs), "--out", str(out)]) == 2
        assert "overlaps the input" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in inputs.rglob("*") if p.is_file()} == before
    out = tmp_path / "out"
    assert main(["translate", str(run_dir), str(inputs), "--out", str(out)]) == 0
    (out / "odd.png").write_bytes(b"mine")
    assert main(["translate", str(run_dir), str(inputs), "--out", str(out)]) == 2
    assert "already exist; pass --overwrite" in capsys.readouterr().err
    assert (out / "odd.png").read_bytes() == b"mine"
    assert main(["translate", str(run_dir), str(inputs), "--out", str(out), "--overwrite"]) == 0
    assert Image.open(out / "odd.png").size == (37, 53)


def test_output_formats(run_dir: Path, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    photo = Image.fromarray(np.random.default_rng(1).integers(0, 256, (40, 44, 3), np.uint8))
    icc = b"\0" * 128  # any bytes: carried over, not interpreted
    photo.save(inputs / "photo.jpg", quality=50, icc_profile=icc)
    photo.save(inputs / "art.webp", lossless=True)

    def run(out: str, *options: str) -> Path:
        argv = ["translate", str(run_dir), str(inputs), "--out", str(tmp_path / out), *options]
        assert main([*argv, "--device", "cpu"]) == 0
        return tmp_path / out

    png = run("png")
    lossless = np.asarray(Image.open(png / "photo.png"))
    assert Image.open(png / "photo.png").info.get("icc_profile") == icc
    same = run("same", "--format", "same")
    with Image.open(same / "photo.jpg") as jpeg:
        assert jpeg.format == "JPEG" and jpeg.layer[0][1:3] == jpeg.layer[1][1:3]  # 4:4:4
        assert jpeg.info.get("icc_profile") == icc
    webp = np.asarray(Image.open(same / "art.webp"))
    assert np.array_equal(webp, np.asarray(Image.open(png / "art.png")))  # lossless
    small = run("q", "--format", "jpg", "--quality", "20")
    assert (small / "photo.jpg").stat().st_size < (same / "photo.jpg").stat().st_size
    assert lossless.shape == (40, 44, 3)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--batch-size", "0"], "argument --batch-size: must be 1 or more, got 0"),
        (["--tile", "-5"], "argument --tile: must be 0 or more, got -5"),
        (["--tile", "8"], "argument --tile: must be 0 (off) or at least 32 px"),
        (["--quality", "101"], "argument --quality: must be 1 to 100"),
        (["--style", "monet", "--style-image", "x.png"], "give --style or --style-image, not both"),
    ],
)
def test_bad_arguments_are_one_line(
    run_dir: Path, tmp_path: Path, capsys, options: list[str], message: str
) -> None:
    odd_inputs(tmp_path / "in")
    argv = ["translate", str(run_dir), str(tmp_path / "in"), "--out", str(tmp_path / "o")]
    try:
        status = main([*argv, *options])
    except SystemExit as stop:  # argparse's own refusal: usage, then one error line
        status = stop.code
    assert status == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_tile_overlap(run_dir: Path, tmp_path: Path, capsys) -> None:
    odd_inputs(tmp_path / "in")
    image = str(tmp_path / "in" / "odd.png")
    base = ["translate", str(run_dir), image, "--out"]
    assert main([*base, str(tmp_path / "a"), "--tile", "32", "--tile-overlap", "12"]) == 0
    assert Image.open(tmp_path / "a" / "odd.png").size == (37, 53)
    assert main([*base, str(tmp_path / "b"), "--tile", "32", "--tile-overlap", "16"]) == 2
    assert "must be under N/2" in capsys.readouterr().err
    assert main([*base, str(tmp_path / "c"), "--tile-overlap", "8"]) == 2
    assert "--tile-overlap needs --tile N" in capsys.readouterr().err
