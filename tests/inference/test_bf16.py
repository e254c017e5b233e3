"""The bf16 engine: the fp32 conversion run in bf16 by OpenVINO, which `auto` picks on CPUs with
AMX: its bar (int8's), when auto picks it, and its refusal (`test_int8.py` runs `translate`
on it twice: the same files, the first run converting)."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from gan_style.cpu import has_amx
from gan_style.errors import ConfigError
from gan_style.inference import engine_policy, engines, int8
from gan_style.inference.onnx_file import BF16_KEY, read_metadata
from gan_style.inference.openvino_engine import OpenVinoGenerator
from gan_style.inference.translation import translate_batch
from tests.conftest import write_images
from tests.inference.test_int8 import agreement, photo, small_resnet

pytest.importorskip("openvino")


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    monkeypatch.setenv("GAN_STYLE_CACHE", str(tmp_path / "cache"))
    engines._MADE.clear()
    yield tmp_path / "cache" / "engine"
    engines._MADE.clear()
    gc.collect()


def test_the_bf16_engine_keeps_within_the_bar_and_records_its_agreement(cache: Path) -> None:
    net = small_resnet()
    converted = engines.converted_engine(net, 4, engine="bf16")
    assert isinstance(converted, OpenVinoGenerator)
    assert converted.bf16 and not converted.int8 and converted.label == "OpenVINO bf16"
    assert converted.path.name.endswith(".bf16.onnx")
    recorded = json.loads(read_metadata(converted.path)[BF16_KEY])
    assert recorded["mean_grey"] <= int8.MEAN_GREY and recorded["ssim"] >= int8.SSIM
    for h, w in ((37, 53), (256, 200)):
        image = photo(h, w, seed=h)
        ours, expected = converted.translate(image), translate_batch(net, image[None], 4)[0]
        mean, ssim = agreement(ours, expected)
        assert ours.shape == (h, w, 3) and mean <= int8.MEAN_GREY and ssim >= int8.SSIM
        if has_amx():  # elsewhere OpenVINO may compute it in fp32
            assert mean > 0.05  # bf16 arithmetic, not fp32 under another name


def test_auto_is_bf16_with_amx_and_int8_without(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_policy.openvino_engine, "available", lambda: True)
    monkeypatch.setattr(engine_policy, "has_amx", lambda: True)
    assert engine_policy.conversion_kind("auto") == "bf16"
    assert engine_policy.conversion_kind("int8") == "int8"  # a name is kept on any CPU
    monkeypatch.setattr(engine_policy, "has_amx", lambda: False)
    assert engine_policy.conversion_kind("auto") == "int8"
    assert engine_policy.conversion_kind("bf16") == "bf16"


def test_amx_is_told_by_the_cpus_flags(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("flags\t\t: fpu avx512f avx512_bf16 amx_tile amx_bf16 amx_int8\n")
    assert has_amx(str(cpuinfo))
    cpuinfo.write_text("flags\t\t: fpu avx512f avx512_bf16 avx512_vnni\n")  # bf16, no AMX
    assert not has_amx(str(cpuinfo))


def test_bf16_off_its_bar_is_refused_in_one_line(
    cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr(int8, "MEAN_GREY", -1.0)  # no network keeps to this
    net = small_resnet(seed=2)
    with pytest.raises(ConfigError, match=r"--engine bf16: in bf16 it is .* grey levels from"):
        engines.converted_engine(net, 4, engine="bf16")
    assert not list(cache.glob("*.bf16.onnx")) and list(cache.glob("*.bf16.unsupported"))
    monkeypatch.setattr(engine_policy, "DEFAULT_ENGINE", "auto")
    monkeypatch.setattr(engine_policy, "has_amx", lambda: True)
    monkeypatch.setattr(engines, "_SAID", set())
    assert engines.converted_engine(net, 4) is None  # PyTorch runs it, and says why
    said = capsys.readouterr().err.strip().splitlines()
    assert said == [said[0]] and said[0].startswith("note: translating on PyTorch: in bf16 it is")


def test_export_bf16_writes_a_file_that_translate_runs_in_bf16(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from gan_style.cli import main
    from gan_style.image_io import load_image

    out = tmp_path / "g.onnx"
    assert main(["export", str(run_dir), "--format", "onnx", "--bf16", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "bf16: " in said and "grey levels from fp32" in said
    recorded = json.loads(read_metadata(out)[BF16_KEY])
    assert recorded["mean_grey"] <= int8.MEAN_GREY and "probe images" in recorded["calibration"]
    write_images(tmp_path / "in", 1, size=(37, 45))
    assert main(["translate", str(out), str(tmp_path / "in"), "--out", str(tmp_path / "a")]) == 0
    assert "(OpenVINO bf16)" in capsys.readouterr().err
    argv = ["translate", str(run_dir), str(tmp_path / "in"), "--out", str(tmp_path / "pt"),
            "--engine", "pytorch"]  # fmt: skip
    assert main(argv) == 0
    ours, theirs = (load_image(tmp_path / d / "img_000.png") for d in ("a", "pt"))
    assert ours.shape == theirs.shape == (37, 45, 3)
    mean, ssim = agreement(ours, theirs)
    assert mean <= int8.MEAN_GREY and ssim >= int8.SSIM


def test_export_bf16_refuses_what_it_cannot_write_in_one_line(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from gan_style.cli import main

    cases = [(["--int8"], "give --int8 or --bf16, not both"),
             (["--format", "torchscript"], "--bf16 writes a one-input ONNX file")]  # fmt: skip
    for extra, said in cases:
        argv = ["export", str(run_dir), "--format", "onnx", "--bf16", *extra,
                "--out", str(tmp_path / "g.onnx")]  # fmt: skip
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and said in err, err
    assert not (tmp_path / "g.onnx").exists()
