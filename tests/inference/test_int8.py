"""The int8 engine (`int8.py`, `conversion.py`, `openvino_engine.py`): how far from PyTorch it
is allowed to be, when `auto` picks it, the files `export --int8` writes, and `translate` with
both."""

from __future__ import annotations

import gc
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from PIL import Image
from skimage.metrics import structural_similarity
from torch import nn

from gan_style.cli import main
from gan_style.cpu import has_amx
from gan_style.errors import ConfigError
from gan_style.export import _write_approximate
from gan_style.image_io import load_image
from gan_style.inference import engine_policy, engines, int8, openvino_engine
from gan_style.inference.files import planned_outputs, write_translations
from gan_style.inference.onnx_file import read_agreement
from gan_style.inference.openvino_engine import OpenVinoGenerator
from gan_style.inference.probes import smooth_probe
from gan_style.inference.translation import translate_batch
from gan_style.networks import build_generator
from tests.conftest import (
    MONET_MINI,
    REPO,
    translate_in_new_process,
    write_images,
)


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    monkeypatch.setenv("GAN_STYLE_CACHE", str(tmp_path / "cache"))
    engines._MADE.clear()
    yield tmp_path / "cache" / "engine"
    engines._MADE.clear()  # OpenVINO's compiled models, and their threads, go with the test
    gc.collect()


def small_resnet(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return build_generator("resnet_6blocks", 3, 3, 8, "instance", False).eval()


def photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    return smooth_probe(np.random.default_rng(seed), h, w, 3)


def agreement(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Mean absolute grey-level difference and SSIM of two 8-bit images."""
    mean = float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())
    return mean, float(structural_similarity(a, b, channel_axis=-1, data_range=255))


def fp32_convolutions(path: Path) -> list[str]:
    nodes = onnx.load(str(path)).graph.node
    made_by = {output: n.op_type for n in nodes for output in n.output}
    convolutions = [n for n in nodes if n.op_type in ("Conv", "ConvTranspose")]
    return [n.name for n in convolutions if made_by.get(n.input[1]) != "DequantizeLinear"]


def test_the_int8_engine_keeps_within_the_bar_at_any_size(cache: Path) -> None:
    net = small_resnet()
    converted = engines.converted_engine(net, 4, engine="int8")
    assert isinstance(converted, OpenVinoGenerator)
    for h, w in ((37, 53), (64, 64), (256, 200)):
        image = photo(h, w, seed=h)
        ours, expected = converted.translate(image), translate_batch(net, image[None], 4)[0]
        assert ours.shape == expected.shape == (h, w, 3)
        mean, ssim = agreement(ours, expected)
        assert mean <= int8.MEAN_GREY and ssim >= int8.SSIM, (h, w)
        assert mean > 0.05  # int8 arithmetic, not an fp32 network under another name
    # Convolutions compute in int8, but eight stay fp32 (`int8.kept_in_fp32`, careful: this
    # network misses the fast recipe's margin): the first, the two downsampling ones, the next
    # three, the first transposed one and the last.
    nodes = onnx.load(str(converted.path)).graph.node
    assert len([n for n in nodes if n.op_type in ("Conv", "ConvTranspose")]) == 18
    assert fp32_convolutions(converted.path) == [
        "/model.1/Conv", "/model.4/Conv", "/model.7/Conv", "/model.10/conv_block.1/Conv",
        "/model.10/conv_block.5/Conv", "/model.11/conv_block.1/Conv", "/model.16/ConvTranspose",
        "/model.23/Conv",
    ]  # fmt: skip


def test_the_fast_recipe_is_taken_only_within_its_margin(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast recipe (the three convolutions after the downsampling ones in int8 too) must
    keep within `FAST_MEAN_GREY` on the check; the careful one within the bar."""
    checked: list[dict] = []
    measure = int8.agreement_of
    monkeypatch.setattr(int8, "agreement_of", lambda *a: checked.append(measure(*a)) or
                        checked[-1])  # fmt: skip
    net = small_resnet()
    careful = engines.converted_engine(net, 4, engine="int8")
    fast_found, careful_found = checked  # both tried, the fast one first
    assert fast_found["mean_grey"] > int8.FAST_MEAN_GREY >= careful_found["mean_grey"]
    assert read_agreement(careful.path)["recipe"] == "careful"
    assert len(fp32_convolutions(careful.path)) == 8

    engines._MADE.clear()
    shutil.rmtree(cache)
    checked.clear()
    monkeypatch.setattr(int8, "FAST_MEAN_GREY", fast_found["mean_grey"] + 0.01)
    fast = engines.converted_engine(net, 4, engine="int8")
    assert len(checked) == 1 and read_agreement(fast.path)["recipe"] == "fast"
    assert fp32_convolutions(fast.path) == [
        "/model.1/Conv", "/model.4/Conv", "/model.7/Conv", "/model.16/ConvTranspose",
        "/model.23/Conv",
    ]  # fmt: skip
    image = photo(64, 64, seed=3)
    mean, ssim = agreement(fast.translate(image), translate_batch(net, image[None], 4)[0])
    assert mean <= int8.MEAN_GREY and ssim >= int8.SSIM
    with pytest.raises(ValueError, match="unknown int8 recipe 'quick'; choose fast, careful"):
        int8.kept_in_fp32(fast.path, "quick")


@pytest.mark.slow
@pytest.mark.skipif(not MONET_MINI.is_dir(), reason="needs ../shared/data/monet2photo-mini")
def test_the_check_admits_the_paper_generator_within_the_bar_on_photos_and_refuses_worse(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's bar is on real photos; the check judges on dead-leaves probes. The paper
    generator (random weights, as in the bench) converted as `translate` converts it is within
    the bar on landscape photos, and the check refuses the recipe that was not (every
    convolution but the first and the downsampling ones in int8: 2.3 grey levels on photos,
    though 1.5 on the smooth probes the check used to judge on)."""
    torch.manual_seed(0)
    net = build_generator("resnet_9blocks", 3, 3, 64, "instance", False).eval()
    converted = engines.converted_engine(net, 4, engine="int8")
    photos = [load_image(p) for p in sorted((MONET_MINI / "testB").glob("*.jpg"))[:3]]
    pairs = [(translate_batch(net, p[None], 4)[0], converted.translate(p)) for p in photos]
    found = int8.agreement_of(pairs)
    assert 0.5 < found["mean_grey"] <= int8.MEAN_GREY and found["ssim"] >= int8.SSIM

    # `export --int8` without photos calibrates as the engine does: on 256 px probes instead of
    # 128 px ones its file was 2.03 grey levels from fp32 on them.
    exported = cache.parent / "g_int8.onnx"
    with monkeypatch.context() as only:  # the calibration is under test here, not the recipe
        only.setattr(int8, "RECIPES", ("careful",))
        _write_approximate("int8", net, (torch.rand(1, 3, 64, 64),), exported, 4, "AtoB", None)
    assert read_agreement(exported)["mean_grey"] <= int8.MEAN_GREY

    engines._MADE.clear()
    shutil.rmtree(cache)  # converted again, by the recipe below
    everything = int8.kept_in_fp32
    monkeypatch.setattr(int8, "kept_in_fp32", lambda path, recipe: everything(path, recipe)[:3])
    monkeypatch.setattr(int8, "RECIPES", ("careful",))  # both recipes are that one now
    with pytest.raises(ConfigError, match=r"--engine int8: its int8 version is .* grey levels"):
        engines.converted_engine(net, 4, engine="int8")


def test_auto_picks_int8_and_pytorch_where_int8_misses_the_bar(
    cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    net = small_resnet()
    assert engines.converted_engine(net, 4) is None  # the suite's default: PyTorch
    monkeypatch.setattr(engine_policy, "DEFAULT_ENGINE", "auto")
    monkeypatch.setattr(engine_policy, "has_amx", lambda: False)  # auto is int8 without AMX
    assert isinstance(engines.converted_engine(net, 4), OpenVinoGenerator)

    engines._MADE.clear()
    monkeypatch.setattr(int8, "MEAN_GREY", 0.01)  # no int8 network keeps to this
    strict = small_resnet(seed=1)  # new weights: converted and checked afresh
    monkeypatch.setattr(engines, "_SAID", set())
    assert engines.converted_engine(strict, 4) is None  # PyTorch runs it, and says why once
    assert engines.converted_engine(strict, 4) is None
    said = capsys.readouterr().err.strip().splitlines()
    assert len(said) == 1 and said[0].startswith("note: translating on PyTorch: its int8 version")
    refusal = next(cache.glob("*.int8.unsupported")).read_text()
    assert "grey levels from PyTorch's output" in refusal and "limits 0.01, 0.99" in refusal
    assert len(list(cache.glob("*.int8.onnx"))) == 1  # the first network's only
    with pytest.raises(ConfigError, match="--engine int8: its int8 version is"):
        engines.converted_engine(strict, 4, engine="int8")


def test_fast_int8_cpus_are_told_by_their_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cases = [("fpu avx2 fma", False), ("fpu avx2 avx512f avx512_vnni", True),
             ("fpu avx2 avx_vnni", True), ("fpu avx2 amx_tile amx_int8", True)]  # fmt: skip
    for flags, fast in cases:
        cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
        assert int8.fast_int8_cpu(str(cpuinfo)) is fast, flags
    assert int8.fast_int8_cpu(str(tmp_path / "missing")) is False


def test_a_folder_goes_through_two_streams_each_output_from_its_own_input(
    cache: Path, tmp_path: Path
) -> None:
    net = small_resnet()
    path = engines.converted_engine(net, 4, engine="int8").path
    two = OpenVinoGenerator(path, threads=2, streams=2)
    assert two.lanes == 2
    write_images(tmp_path / "in", 6)
    pairs = planned_outputs([tmp_path / "in"], tmp_path / "out")
    report = write_translations(lambda images: [two.translate(im) for im in images], pairs,
                                lanes=two.lanes, progress=False, torch_threads=False)  # fmt: skip
    assert len(report.written) == 6 and not report.skipped
    for source, target in pairs:
        image = load_image(source)
        mean, ssim = agreement(load_image(target), translate_batch(net, image[None], 4)[0])
        assert mean <= int8.MEAN_GREY and ssim >= int8.SSIM, target.name


def test_running_openvino_reports_nothing(cache: Path, tmp_path: Path) -> None:
    """`import openvino` sends a usage event to Intel unless told not to; ours never does, and
    keeps nothing under the user's home folder."""
    path = engines.converted_engine(small_resnet(), 4, engine="int8").path
    code = (
        "from pathlib import Path; import numpy as np; "
        "from gan_style.inference.openvino_engine import OpenVinoGenerator; "
        f"g = OpenVinoGenerator(Path({str(path)!r}), 1); "
        "g.forward(np.zeros((1, 3, 32, 32), 'float32')); print('RAN')"
    )
    home = tmp_path / "home"
    home.mkdir()
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          env={"HOME": str(home), "PATH": "/usr/bin:/bin"})  # fmt: skip
    assert "RAN" in done.stdout, done.stderr
    assert not (home / "intel").exists()  # where its counters and client id would be kept


# --- export --int8 and translate -------------------------------------------------------------


@pytest.mark.slow
def test_export_int8_calibrates_on_photos_and_translate_runs_it(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    photos = tmp_path / "photos"
    write_images(photos, 3, size=(64, 80))
    (photos / "broken.jpg").write_bytes(b"not an image")  # passed over, not fatal
    assert main(["export", str(run_dir), "--format", "onnx", "--int8", "--calibration",
                 str(photos)]) == 0  # fmt: skip
    out = run_dir / "generator_AtoB_int8.onnx"
    printed = capsys.readouterr().out
    assert f"wrote {out}" in printed and f"on 3 image(s) of {photos}" in printed
    found = read_agreement(out)
    assert 0 < found["mean_grey"] < 10 and 0.5 < found["ssim"] <= 1

    write_images(tmp_path / "in", 2)
    assert main(["translate", str(out), str(tmp_path / "in"), "--out", str(tmp_path / "int8")]) == 0
    assert "(OpenVINO int8)" in capsys.readouterr().err
    assert main(["translate", str(run_dir), str(tmp_path / "in"), "--out", str(tmp_path / "pt"),
                 "--engine", "pytorch"]) == 0  # fmt: skip
    for name in ("img_000.png", "img_001.png"):
        a, b = (np.asarray(Image.open(tmp_path / d / name)) for d in ("int8", "pt"))
        assert a.shape == b.shape and agreement(a, b)[0] < 10

    # Without OpenVINO an exported file cannot run; the error says how to get it.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(openvino_engine, "available", lambda: False)
        assert (
            main(["translate", str(out), str(tmp_path / "in"), "--out", str(tmp_path / "x")]) == 2
        )
    assert "needs OpenVINO: pip install 'gan-style[cpu]'" in capsys.readouterr().err


def test_export_int8_takes_the_fast_recipe_only_within_its_margin(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = {}
    for margin, recipe in ((-1.0, "careful"), (99.0, "fast")):  # 99: the bar of 2 decides
        monkeypatch.setattr(int8, "FAST_MEAN_GREY", margin)
        out = tmp_path / f"{recipe}.onnx"
        assert main(["export", str(run_dir), "--format", "onnx", "--int8", "--out", str(out)]) == 0
        assert f"int8 ({recipe} recipe): " in capsys.readouterr().out
        assert read_agreement(out)["recipe"] == recipe
        kept[recipe] = fp32_convolutions(out)
    # The fast recipe quantises the three convolutions after the downsampling ones too.
    fast, careful = set(kept["fast"]), set(kept["careful"])
    assert fast < careful and len(careful - fast) == 3


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--format", "torchscript", "--int8"], "--int8 writes a one-input ONNX file"),
        (["--format", "onnx", "--calibration", "photos"], "--calibration is for --int8"),
        (["--format", "onnx", "--int8", "--calibration", "empty"], "no readable images in"),
        (["--format", "onnx", "--int8", "--calibration", "nowhere"], "is not a folder"),
    ],
)
def test_what_export_int8_cannot_do_is_one_line(
    run_dir: Path, tmp_path: Path, options: list[str], message: str, capsys, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_images(tmp_path / "photos", 1)
    (tmp_path / "empty").mkdir()
    assert main(["export", str(run_dir), *options]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not list(run_dir.glob("*.onnx")) and not list(run_dir.glob(".export-*"))


@pytest.mark.slow
def test_lanes_set_an_exported_files_images_in_flight(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "g_int8.onnx"
    assert main(["export", str(run_dir), "--format", "onnx", "--int8", "--out", str(out)]) == 0
    write_images(tmp_path / "in", 3)
    for lanes in ("1", "2"):
        argv = ["translate", str(out), str(tmp_path / "in"), "--out", str(tmp_path / lanes),
                "--lanes", lanes]  # fmt: skip
        assert main(argv) == 0
    for name in ("img_000.png", "img_002.png"):
        one, two = (load_image(tmp_path / d / name) for d in ("1", "2"))
        assert agreement(one, two)[0] < 1  # one stream or two: last-bit differences at most


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["int8", "bf16"])
def test_translate_converts_then_starts_without_pytorch_with_the_same_files(
    run_dir: Path, tmp_path: Path, engine: str
) -> None:
    """The first run converts (PyTorch loaded), the second starts without PyTorch: the same
    files, byte for byte, within the bar of PyTorch's."""
    write_images(tmp_path / "in", 2)

    def translate(out: str, *options: str) -> subprocess.CompletedProcess:
        args = ["translate", str(run_dir), str(tmp_path / "in"), "--out", str(tmp_path / out),
                "--device", "cpu", *options]  # fmt: skip
        return translate_in_new_process(args, tmp_path / "cache")

    first, second = translate("a", "--engine", engine), translate("b", "--engine", engine)
    pytorch = translate("pt", "--engine", "pytorch")
    for done in (first, second, pytorch):
        assert done.returncode == 0, done.stderr
    assert "TORCH True" in first.stdout and f"(OpenVINO {engine})" in first.stderr
    assert "TORCH False" in second.stdout and f"(OpenVINO {engine})" in second.stderr
    for name in ("img_000.png", "img_001.png"):
        a, b, c = (np.asarray(Image.open(tmp_path / d / name)) for d in ("a", "b", "pt"))
        np.testing.assert_array_equal(a, b)
        mean, ssim = agreement(a, c)
        assert mean <= int8.MEAN_GREY and ssim >= int8.SSIM
        if engine == "int8" or has_amx():  # without bf16 hardware OpenVINO computes in fp32
            assert mean > 0


@pytest.mark.slow
def test_gallery_evaluate_and_the_web_page_use_the_cpu_engine(
    run_dir: Path, tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gan_style.app.handlers import ModelCache, translate_uploads
    from gan_style.image_io import load_image

    monkeypatch.setattr(engine_policy, "DEFAULT_ENGINE", "auto")
    outputs = {}
    for engine in ("pytorch", "auto"):
        monkeypatch.setattr(engine_policy, "DEFAULT_ENGINE", engine)
        out = tmp_path / engine
        assert (
            main(["gallery", str(run_dir), "--out", str(out / "gallery"), "--device", "cpu"]) == 0
        )
        assert main(["evaluate", str(run_dir), "--out", str(out / "eval"), "--device", "cpu",
                     "--no-fid", "--no-lpips"]) == 0  # fmt: skip
        outputs[engine] = {p.relative_to(out).as_posix(): np.asarray(Image.open(p))
                           for p in sorted(out.rglob("fake_*/*.png"))}  # fmt: skip
    kind = engine_policy.conversion_kind("auto")  # bf16 on CPUs with AMX, else int8
    assert list(cache.glob(f"*.{kind}.onnx")), f"nothing was converted to {kind}"
    assert outputs["auto"] and outputs["auto"].keys() == outputs["pytorch"].keys()
    for name, image in outputs["auto"].items():
        mean, ssim = agreement(image, outputs["pytorch"][name])
        assert 0 < mean <= int8.MEAN_GREY and ssim >= int8.SSIM, name

    write_images(tmp_path / "in", 1, size=(37, 53))
    upload = next((tmp_path / "in").iterdir())
    result = translate_uploads(ModelCache([run_dir], "cpu"), [str(upload)], "tiny/t")
    assert result.messages == ["translated 1 of 1 image(s)"]
    assert main(["translate", str(run_dir), str(upload), "--out", str(tmp_path / "cli"),
                 "--device", "cpu", "--engine", kind]) == 0  # fmt: skip
    np.testing.assert_array_equal(load_image(result.downloads[0]),
                                  load_image(tmp_path / "cli" / upload.name))  # fmt: skip
