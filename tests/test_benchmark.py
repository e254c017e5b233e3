"""The benchmark's measurements (not its timings): rows are complete and FLOPs are counted the
same way whatever the convolution backend."""

from __future__ import annotations

import json

import pytest
import torch

from gan_style import benchmark
from gan_style.networks import nnpack

CPU = torch.device("cpu")


@pytest.mark.slow
@pytest.mark.skipif(not nnpack.available(), reason="this PyTorch build has no NNPACK")
def test_training_rows_count_direct_convolution_flops() -> None:
    native = benchmark.one_train(32, 1, "fp32", False, "native", CPU, 0, 1)
    winograd = benchmark.one_train(32, 1, "fp32", False, "nnpack", CPU, 0, 1)
    assert (native["conv_backend"], winograd["conv_backend"]) == ("native", "nnpack")
    # Paper model at 32 px: six generator passes dominate; about 1.88 TFLOP at 256 px / 64.
    assert native["flops_per_iter"] == pytest.approx(1.88e12 / 64, rel=0.1)
    assert winograd["flops_per_iter"] == native["flops_per_iter"]
    for row in (native, winograd):
        assert row["sec_per_iter"] > 0 and row["peak_memory_gib"] > 0
        assert row["images_per_sec"] == pytest.approx(1 / row["sec_per_iter"])


def test_translation_row() -> None:
    row = benchmark.one_infer(64, "fp32", False, "native", CPU, 1)
    assert row["kind"] == "translate_folder" and row["images_per_sec"] > 0
    assert row["conv_backend"] == "native" and row["images"] == 8


def test_child_protocol_keeps_types(capsys: pytest.CaptureFixture) -> None:
    """A configuration travels to its process as JSON: booleans stay booleans."""
    spec = {"kind": "infer", "size": 32, "precision": "fp32", "channels_last": True,
            "conv_backend": "native"}  # fmt: skip
    benchmark.main(["--device", "cpu", "--repeats", "1", "--one", json.dumps(spec)])
    row = json.loads(capsys.readouterr().out)
    assert row["channels_last"] is True and row["size"] == 32


@pytest.mark.parametrize("option", ["--repeats", "--quality-seeds"])
def test_counts_must_be_positive(option: str) -> None:
    with pytest.raises(SystemExit, match=f"{option} must be 1 or more"):
        benchmark.main([option, "0"])


def test_quick_leaves_out_the_quality_rows_unless_asked() -> None:
    assert benchmark.quality_steps(None, quick=True) == 0
    assert benchmark.quality_steps(None, quick=False) == benchmark.QUALITY_STEPS == 600
    assert benchmark.quality_steps(50, quick=True) == 50
    with pytest.raises(SystemExit, match=r"--quality-steps must be 0 \(no quality rows\) or more"):
        benchmark.main(["--quality-steps", "-1"])


@pytest.mark.slow
def test_cut_rows_are_cheaper_than_cyclegan() -> None:
    """One generator and one discriminator: fewer FLOPs per iteration than CycleGAN's four."""
    cut = benchmark.one_train(32, 1, "fp32", False, "native", CPU, 0, 1, experiment="_cut")
    cyc = benchmark.one_train(32, 1, "fp32", False, "native", CPU, 0, 1)
    assert cut["model"] == "cut" and cyc["model"] == "cycle_gan"
    assert 0 < cut["flops_per_iter"] < 0.8 * cyc["flops_per_iter"]
