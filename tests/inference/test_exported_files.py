"""`translate MODEL.onnx`: an exported generator on OpenVINO, without loading PyTorch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from PIL import Image

from gan_style.cli import main
from gan_style.export import export_generator
from gan_style.inference import load_generators
from tests.conftest import REPO, write_images

pytestmark = pytest.mark.slow


@pytest.fixture
def exported(run_dir: Path, tmp_path: Path) -> Path:
    return export_generator(load_generators(run_dir), "BtoA", "onnx", tmp_path / "g_BtoA.onnx")


def read(folder: Path) -> dict[str, np.ndarray]:
    return {
        str(p.relative_to(folder)): np.asarray(Image.open(p)).astype(int)
        for p in sorted(folder.rglob("*.png"))
    }


def test_onnx_translation_matches_pytorch_without_loading_it(
    run_dir: Path, exported: Path, tmp_path: Path
) -> None:
    images = tmp_path / "in"
    write_images(images, 2)  # 40x48: sides padded by reflection to multiples of 4
    write_images(images / "odd", 1, size=(37, 45), seed=1)
    write_images(images / "tiny", 1, size=(9, 5), seed=2)  # too small to reflect: repeated
    argv = ["translate", str(exported), str(images), "--out", str(tmp_path / "onnx")]
    code = (
        "import sys; from gan_style.cli import main; "
        f"assert main({argv!r}) == 0; print('TORCH', 'torch' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert "TORCH False" in done.stdout, done.stdout + done.stderr
    assert main(["translate", str(run_dir), str(images), "--out", str(tmp_path / "torch"),
                 "--direction", "BtoA"]) == 0  # fmt: skip
    onnx_out, torch_out = read(tmp_path / "onnx"), read(tmp_path / "torch")
    assert sorted(onnx_out) == sorted(torch_out) and len(onnx_out) == 4
    for name, image in onnx_out.items():
        assert image.shape == torch_out[name].shape
        difference = np.abs(image - torch_out[name])
        assert difference.max() <= 1 and difference.mean() < 0.01, name  # rounding only
    assert onnx_out["img_000.png"].std() > 1  # a translation, not a blank image


def test_unreadable_images_are_skipped_and_the_others_written(
    exported: Path, tmp_path: Path, capsys
) -> None:
    write_images(tmp_path / "in", 2)
    (tmp_path / "in" / "broken.png").write_bytes(b"not an image")
    assert main(["translate", str(exported), str(tmp_path / "in"), "--out",
                 str(tmp_path / "out")]) == 1  # fmt: skip
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["img_000.png", "img_001.png"]
    assert "broken.png" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--direction", "AtoB"], "holds the BtoA generator"),
        (["--tile", "64"], "--tile need(s) a checkpoint"),
        (["--precision", "bf16", "--device", "cuda"], "--precision, --device need(s)"),
    ],
)
def test_what_an_onnx_file_cannot_do_is_one_line(
    exported: Path, tmp_path: Path, capsys, options: list[str], message: str
) -> None:
    write_images(tmp_path / "in", 1)
    argv = ["translate", str(exported), str(tmp_path / "in"), "--out", str(tmp_path / "out")]
    assert main([*argv, *options]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_foreign_and_broken_onnx_files_are_refused(exported: Path, tmp_path: Path, capsys) -> None:
    write_images(tmp_path / "in", 1)
    foreign = onnx.load(str(exported))
    del foreign.metadata_props[:]  # as torch.onnx.export alone writes it
    onnx.save(foreign, str(tmp_path / "foreign.onnx"))
    (tmp_path / "broken.onnx").write_bytes(b"\x08\x07garbage")
    for model, message in [
        ("foreign.onnx", "was not written by gan-style export"),
        ("broken.onnx", "is not a readable ONNX model"),
        ("missing.onnx", "not found"),
    ]:
        argv = ["translate", str(tmp_path / model), str(tmp_path / "in"), "--out",
                str(tmp_path / "out")]  # fmt: skip
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err


def test_eight_bit_conversion_rounds_and_clips_as_the_pytorch_path_does() -> None:
    import torch

    from gan_style.inference.pixels import to_uint8

    # -1 -> 0, 1 -> 255, 0 -> 127.5 (half to even: 128), beyond [-1, 1] clipped; CxHxW -> HxWxC
    y = np.array([[[-1.0, 1.0, 0.0, -3.0]], [[2.0, 1 / 127.5 - 1, 0.5, -0.5]]], np.float32)
    expected = np.array([[[0, 255], [255, 1], [128, 191], [0, 64]]], np.uint8)
    np.testing.assert_array_equal(to_uint8(y), expected)
    t = torch.from_numpy(y).add(1).mul(127.5).round().clamp(0, 255).to(torch.uint8)
    np.testing.assert_array_equal(to_uint8(y), t.permute(1, 2, 0).numpy())
