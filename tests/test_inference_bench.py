"""`make bench`'s inference rows: engines agree with PyTorch, and the side-by-side with the
reference's test script runs both programs on the same weights and images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gan_style.benchmark import available_engines
from gan_style.image_io import load_image
from gan_style.inference_bench import (
    engine_row,
    one_image_startup,
    reference_command,
    sample_images,
    translate_command,
    versus_reference,
)
from gan_style.networks.reference import reference_generator
from gan_style.runtime.timing import measure_process
from tests.conftest import REPO

pytestmark = pytest.mark.slow
REFERENCE = REPO.parent / "shared" / "reference"


@pytest.mark.parametrize("engine", available_engines())
def test_engine_rows(engine: str) -> None:
    row = engine_row(engine, 32, repeats=1)
    assert row["engine"] == engine and row["images_per_sec"] > 0 and row["peak_memory_mib"] > 0
    if engine == "onnxruntime-int8":  # calibrated on three 32 px images: measured only
        assert 0 < row["ssim_vs_fp32_torch"] <= 1
    elif engine == "openvino-int8":  # checked on 256 px probes when converted
        assert 0 < row["mean_abs_diff_grey"] < 4 and row["ssim_vs_fp32_torch"] > 0.95
    elif engine == "openvino-bf16":  # bf16 where the CPU has it, else fp32: within int8's bar
        assert row["mean_abs_diff_grey"] < 4 and row["ssim_vs_fp32_torch"] > 0.95
    else:
        assert row["mean_abs_diff_grey"] < 0.5 and row["ssim_vs_fp32_torch"] > 0.999


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="no ../shared/reference beside the checkout")
def test_both_programs_translate_the_same_images_alike(tmp_path: Path) -> None:
    weights = reference_generator(tmp_path / "G.pth")
    sample_images(tmp_path / "images", 64, 2)
    theirs = measure_process(
        reference_command(REFERENCE, tmp_path / "images", weights, tmp_path / "ref", 64, 2)
    )
    ours = measure_process(
        translate_command(tmp_path / "images", weights, tmp_path / "ours", "--engine", "pytorch")
    )
    assert theirs["sec"] > 0 and ours["peak_mib"] > 0
    fakes = sorted((tmp_path / "ref" / "results").rglob("*_fake.png"))
    assert [p.name for p in fakes] == ["img_000_fake.png", "img_001_fake.png"]
    for fake in fakes:
        mine = load_image(tmp_path / "ours" / fake.name.replace("_fake", ""))
        diff = np.abs(load_image(fake).astype(int) - mine.astype(int))
        assert diff.mean() < 1.0 and diff.max() <= 2  # same weights: the same translation


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="no ../shared/reference beside the checkout")
def test_versus_reference_row() -> None:
    row = versus_reference(REFERENCE, 32, 2, pairs=1)
    assert row["kind"] == "translate_vs_reference" and len(row["speedups"]) == 1
    assert row["speedup_median"] == pytest.approx(row["reference_sec"] / row["gan_style_sec"])


def test_startup_row_runs_every_translate_path() -> None:
    row = one_image_startup(None, repeats=1, size=32)
    assert row["kind"] == "one_image_startup" and "reference_sec" not in row
    assert row["checkpoint_sec"] > 0 and len(row["onnx_secs"]) == 1
    assert row["checkpoint_first_run_sec"] > 0
    # The ONNX path and the checkpoint's recorded MNN conversion load no PyTorch: a fraction of
    # the memory of `--engine pytorch`, whatever this machine's speed.
    assert row["onnx_peak_mib"] < 0.6 * row["checkpoint_pytorch_peak_mib"]
    assert row["checkpoint_peak_mib"] < 0.6 * row["checkpoint_pytorch_peak_mib"]
