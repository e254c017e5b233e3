"""The benchmark's measurements (not its timings): rows are complete and FLOPs are counted the
same way whatever the convolution backend."""

from __future__ import annotations

import pytest
import torch

from gan_style import benchmark
from gan_style.networks import nnpack

CPU = torch.device("cpu")


@pytest.mark.slow
def test_training_rows_count_direct_convolution_flops() -> None:
    rows = {
        backend: benchmark.one_train(32, 1, "fp32", False, backend, CPU, 0, 1)
        for backend in ("native", "nnpack" if nnpack.available() else "native")
    }
    native = rows["native"]
    # Paper model at 32 px: six generator passes dominate; about 1.88 TFLOP at 256 px / 64.
    assert native["flops_per_iter"] == pytest.approx(1.88e12 / 64, rel=0.1)
    for row in rows.values():
        assert row["flops_per_iter"] == native["flops_per_iter"]
        assert row["sec_per_iter"] > 0 and row["peak_memory_gib"] > 0
    assert rows.get("nnpack", native)["conv_backend"] in ("nnpack", "native")


def test_translation_row() -> None:
    row = benchmark.one_infer(64, "fp32", False, "auto", CPU, 1)
    assert row["kind"] == "translate_folder" and row["images_per_sec"] > 0
    assert row["conv_backend"] == nnpack.resolve_backend("auto", CPU)
