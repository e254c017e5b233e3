"""`gan-style export`: ONNX and TorchScript generators that compute what the checkpoint does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch

from gan_style.cli import main
from gan_style.export import export_generator
from gan_style.inference import load_generators

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_export_round_trip(run_dir: Path, tmp_path: Path, fmt: str) -> None:
    gens = load_generators(run_dir)
    out = export_generator(gens, "BtoA", fmt, tmp_path / f"g.{fmt}")
    x = torch.rand(2, 3, 36, 44) * 2 - 1  # not the export example's size: dynamic H and W
    with torch.no_grad():
        expected = gens.G_BA(x).numpy()
    if fmt == "onnx":
        session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
        got = session.run(None, {"image": x.numpy()})[0]
    else:
        got = torch.jit.load(str(out))(x).detach().numpy()
    assert got.shape == expected.shape and np.abs(got - expected).max() < 1e-4


def test_export_command(run_dir: Path, capsys) -> None:
    assert main(["export", str(run_dir), "--format", "onnx"]) == 0
    assert (run_dir / "generator_AtoB.onnx").is_file()
    assert "H and W multiples of 4" in capsys.readouterr().out
