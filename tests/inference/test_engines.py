"""The CPU engine's door (`engines.py`, `engine_policy.py`) and its fp32 conversion: faithful to
PyTorch, converted once per weights, refused where it is not faithful, used by every command,
and `translate`'s second run of a checkpoint starts without PyTorch and writes the same
files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from gan_style.errors import ConfigError
from gan_style.inference import conversion, engine_policy, engines, openvino_engine
from gan_style.inference.openvino_engine import OpenVinoGenerator
from gan_style.inference.probes import smooth_probe
from gan_style.inference.translation import translate_batch
from gan_style.networks import build_generator
from tests.conftest import REPO, translate_in_new_process, write_images


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("GAN_STYLE_CACHE", str(tmp_path / "cache"))
    engines._MADE.clear()
    return tmp_path / "cache" / "engine"


@pytest.fixture
def conversions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the conversions the engine runs."""
    count: list[int] = []
    convert = conversion.convert

    def counted(*args: object) -> str | None:
        count.append(1)
        return convert(*args)

    monkeypatch.setattr(conversion, "convert", counted)
    return count


def small_resnet(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return build_generator("resnet_6blocks", 3, 3, 8, "instance", False).eval()


def photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    return smooth_probe(np.random.default_rng(seed), h, w, 3)


def grey_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(np.int16) - b.astype(np.int16))


def test_the_fp32_engine_agrees_with_pytorch_at_any_size(cache: Path) -> None:
    net = small_resnet()
    converted = engines.converted_engine(net, 4, engine="openvino")
    assert isinstance(converted, OpenVinoGenerator) and not converted.int8
    for h, w in ((37, 53), (64, 64), (90, 41)):
        image = photo(h, w)
        ours = converted.translate(image)
        expected = translate_batch(net, image[None], 4)[0]
        assert ours.shape == expected.shape == (h, w, 3)
        assert grey_difference(ours, expected).mean() < 0.1
        assert grey_difference(ours, expected).max() <= 2


def test_conversion_is_made_once_per_weights(cache: Path, conversions: list[int]) -> None:
    net = small_resnet()
    first = engines.converted_engine(net, 4, engine="openvino")
    assert first is not None and len(conversions) == 1
    assert (
        engines.converted_engine(net, 4, engine="openvino") is first
    )  # the same process: no hashing again
    engines._MADE.clear()
    assert (
        engines.converted_engine(net, 4, engine="openvino").path == first.path
        and len(conversions) == 1
    )  # the cache
    with torch.no_grad():
        next(net.parameters()).add_(0.5)
    engines._MADE.clear()
    changed = engines.converted_engine(net, 4, engine="openvino")
    assert len(conversions) == 2 and changed.path != first.path
    image = photo(32, 32)
    np.testing.assert_array_less(
        grey_difference(changed.translate(image), translate_batch(net, image[None], 4)[0]), 3
    )


def test_a_damaged_cache_entry_is_converted_again(cache: Path, conversions: list[int]) -> None:
    net = small_resnet()
    path = engines.converted_engine(net, 4, engine="openvino").path
    path.write_bytes(b"not a model")
    engines._MADE.clear()
    again = engines.converted_engine(net, 4, engine="openvino")
    assert len(conversions) == 2
    image = photo(32, 40)
    assert grey_difference(again.translate(image), translate_batch(net, image[None])[0]).max() <= 2


def test_an_unfaithful_conversion_is_refused_once_for_good(
    cache: Path, conversions: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(conversion, "MAX_DIFFERENCE", -1.0)  # any difference fails the check
    net = small_resnet()
    for _ in range(2):
        with pytest.raises(ConfigError, match="--engine openvino: the engine's output differs"):
            engines.translate_arrays(net, [photo(36, 44)], 4, engine="openvino")
        engines._MADE.clear()  # a later run
    assert len(conversions) == 1  # the refusal is recorded, with its reason
    assert "differs from PyTorch's" in next(cache.glob("*.unsupported")).read_text()
    assert not list(cache.glob("*.onnx"))  # nothing half-made is left to be used


def test_a_cache_that_cannot_be_written_runs_on_pytorch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "file").write_text("a file where the cache folder should be")
    monkeypatch.setenv("GAN_STYLE_CACHE", str(tmp_path / "file"))
    engines._MADE.clear()
    monkeypatch.setattr(engine_policy, "DEFAULT_ENGINE", "auto")  # auto: the CPU engine
    net, images = small_resnet(), [photo(20, 28)]
    assert engines.converted_engine(net, 4) is None
    np.testing.assert_array_equal(
        engines.translate_arrays(net, images, 4), translate_batch(net, images[0][None])
    )
    with pytest.raises(ConfigError, match="--engine int8: the engine's cache cannot be written"):
        engines.converted_engine(net, 4, engine="int8")


def test_generators_that_draw_at_test_time_stay_on_pytorch(cache: Path) -> None:
    net = nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), nn.Dropout(0.5), nn.Tanh()).train()
    assert engines.converted_engine(net, 1) is None
    with pytest.raises(ConfigError, match="draws random numbers at test time"):
        engines.converted_engine(net, 1, engine="openvino")
    assert not cache.exists()


@pytest.mark.parametrize("engine", ["openvino", "int8"])
def test_a_style_code_is_built_in(cache: Path, engine: str) -> None:
    class Styled(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.network = small_resnet()

        def forward(self, x: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor:
            return 0.5 * self.network(x) + 0.5 * style[:, :3, None, None]

    net = Styled().eval()
    image = photo(24, 24)
    outputs = []
    for code in (torch.tensor([[0.5, -0.5, 0.0]]), torch.tensor([[-0.5, 0.5, 0.2]])):
        converted = engines.converted_engine(net, 4, code, engine=engine)
        expected = translate_batch(net, image[None], 4, code)[0]
        outputs.append(converted.translate(image))
        difference = grey_difference(outputs[-1], expected)
        if engine == "openvino":
            assert difference.max() <= 1
        else:
            assert 0 < difference.mean() <= 2
    assert grey_difference(*outputs).mean() > 10  # each code its own conversion


def test_engine_names(cache: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(ConfigError, match="unknown engine 'fast'; choose auto, pytorch, openvino"):
        engines.converted_engine(small_resnet(), 4, engine="fast")
    assert engine_policy.renamed("mnn") == "openvino"  # the engine before OpenVINO
    assert "--engine mnn is now --engine openvino" in capsys.readouterr().err
    assert engine_policy.renamed("int8") == "int8"


def test_without_the_cpu_extra_auto_translates_on_pytorch_and_says_so_once(
    cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr(engine_policy, "DEFAULT_ENGINE", "auto")
    monkeypatch.setattr(openvino_engine, "available", lambda: False)
    monkeypatch.setattr(engine_policy, "_hinted", False)
    net, image = small_resnet(), photo(24, 32)
    for _ in range(2):
        got = engines.translate_arrays(net, [image], 4)[0]
        np.testing.assert_array_equal(got, translate_batch(net, image[None], 4)[0])
    err = capsys.readouterr().err
    assert err.count("pip install 'gan-style[cpu]'") == 1 and len(err.strip().splitlines()) == 1
    with pytest.raises(ConfigError, match=r"--engine int8: the CPU engine is not installed"):
        engines.converted_engine(net, 4, engine="int8")
    engines.translate_arrays(net, [image], 4, engine="pytorch")
    assert capsys.readouterr().err == ""  # PyTorch asked for by name: nothing to say


# --- translate ------------------------------------------------------------------------------


@pytest.mark.slow
def test_translate_starts_without_pytorch_the_second_time(run_dir: Path, tmp_path: Path) -> None:
    write_images(tmp_path / "in", 2)
    base = ["translate", str(run_dir), str(tmp_path / "in"), "--device", "cpu", "--engine",
            "openvino"]  # fmt: skip
    cache_folder = tmp_path / "cache"
    first = translate_in_new_process([*base, "--out", str(tmp_path / "first")], cache_folder)
    second = translate_in_new_process([*base, "--out", str(tmp_path / "second")], cache_folder)
    pytorch = translate_in_new_process(
        [*base[:-2], "--out", str(tmp_path / "pt"), "--engine", "pytorch"], cache_folder
    )
    for done in (first, second, pytorch):
        assert done.returncode == 0, done.stderr
    assert "TORCH True" in first.stdout and "(OpenVINO)" in first.stderr
    assert "TORCH False" in second.stdout and "(OpenVINO)" in second.stderr
    for name in ("img_000.png", "img_001.png"):
        a, b, c = (np.asarray(Image.open(tmp_path / d / name)) for d in ("first", "second", "pt"))
        np.testing.assert_array_equal(a, b)
        assert grey_difference(a, c).mean() < 0.1 and grey_difference(a, c).max() <= 2

    # New weights under the same name: the recorded conversion is not theirs.
    generator = run_dir / "generator.pt"
    state = torch.load(generator, weights_only=False)
    for tensor in state["G_AB"].values():
        tensor.mul_(-1)
    torch.save(state, generator)
    changed = translate_in_new_process([*base, "--out", str(tmp_path / "changed")], cache_folder)
    assert changed.returncode == 0 and "TORCH True" in changed.stdout, changed.stderr
    c = np.asarray(Image.open(tmp_path / "changed" / "img_000.png"))
    assert grey_difference(c, np.asarray(Image.open(tmp_path / "first" / "img_000.png"))).mean() > 1


@pytest.mark.slow
def test_a_finished_training_run_is_converted_so_the_first_translate_needs_no_pytorch(
    make_config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Training converts generator.pt when the run finishes (`train.prepare_cpu_engine`), in
    the user's cache: the first `translate` of the run starts without PyTorch."""
    from gan_style.training.loop import train

    monkeypatch.setattr(engine_policy, "DEFAULT_ENGINE", "auto")  # the user's default
    cache = tmp_path / "cache"
    monkeypatch.setenv("GAN_STYLE_CACHE", str(cache))
    run_dir = train(make_config(train={"max_steps": 2}), run="converted")
    assert len(list((cache / "engine" / "files").glob("*.json"))) == 1  # generator.pt's
    write_images(tmp_path / "in", 1)
    args = ["translate", str(run_dir), str(tmp_path / "in"), "--out", str(tmp_path / "out"),
            "--device", "cpu"]  # fmt: skip
    first = translate_in_new_process(args, cache)
    assert first.returncode == 0 and "TORCH False" in first.stdout, first.stderr
    assert f"(OpenVINO {engine_policy.conversion_kind('auto')})" in first.stderr  # bf16 on AMX

    skipped = train(make_config(train={"max_steps": 2, "prepare_cpu_engine": False}), run="off")
    assert (skipped / "generator.pt").is_file()
    assert len(list((cache / "engine" / "files").glob("*.json"))) == 1  # nothing new


@pytest.mark.slow
def test_without_the_cpu_extra_translate_runs_on_pytorch(run_dir: Path, tmp_path: Path) -> None:
    """`pip install gan-style` without extras: OpenVINO, ONNX and ONNX Runtime cannot be
    imported; `translate` writes every image on PyTorch and says once how to get the engine."""
    write_images(tmp_path / "in", 2)
    args = ["translate", str(run_dir), str(tmp_path / "in"), "--out", str(tmp_path / "out")]
    code = (
        "import sys\n"
        "for name in ('openvino', 'onnx', 'onnxruntime', 'openvino_telemetry'):\n"
        "    sys.modules[name] = None  # as if not installed\n"
        f"from gan_style.cli import main; sys.exit(main({args!r}))"
    )
    env = {"GAN_STYLE_CACHE": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["img_000.png", "img_001.png"]
    assert done.stderr.count("pip install 'gan-style[cpu]'") == 1


@pytest.mark.slow
def test_the_command_converts_in_one_process_and_writes_each_file_once(
    run_dir: Path, tmp_path: Path
) -> None:
    """`gan-style translate`'s first run of a checkpoint converts it, records it and translates
    on the conversion, in the same process; a bad file is reported once."""
    write_images(tmp_path / "in", 2)
    (tmp_path / "in" / "broken.png").write_bytes(b"not an image")
    env = {"GAN_STYLE_CACHE": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "gan_style.cli", "translate", str(run_dir), str(tmp_path / "in"),
         "--out", str(tmp_path / "out"), "--device", "cpu", "--engine", "int8"],
        cwd=REPO, capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr  # the broken file
    broken = f"skipped {tmp_path / 'in' / 'broken.png'}:"
    assert done.stdout.count("wrote 2 image(s)") == 1 and done.stderr.count(broken) == 1
    assert "translate AtoB (OpenVINO int8)" in done.stderr
    assert len(list((tmp_path / "cache" / "engine" / "files").glob("*.json"))) == 1
    assert not list((tmp_path / "cache" / "engine").glob(".converting-*"))


@pytest.mark.slow
def test_a_damaged_record_falls_back_to_pytorch(run_dir: Path, tmp_path: Path) -> None:
    write_images(tmp_path / "in", 1)
    base = ["translate", str(run_dir), str(tmp_path / "in"), "--device", "cpu", "--overwrite",
            "--engine", "openvino"]  # fmt: skip
    cache_folder = tmp_path / "cache"
    first = translate_in_new_process([*base, "--out", str(tmp_path / "a")], cache_folder)
    assert first.returncode == 0
    for model in (cache_folder / "engine").glob("*.onnx"):
        model.unlink()
    done = translate_in_new_process([*base, "--out", str(tmp_path / "b")], cache_folder)
    assert done.returncode == 0 and "TORCH True" in done.stdout, done.stderr
    for record in (cache_folder / "engine" / "files").glob("*.json"):
        record.write_text("{not json")
    done = translate_in_new_process([*base, "--out", str(tmp_path / "c")], cache_folder)
    assert done.returncode == 0 and "TORCH True" in done.stdout, done.stderr
    np.testing.assert_array_equal(
        np.asarray(Image.open(tmp_path / "a" / "img_000.png")),
        np.asarray(Image.open(tmp_path / "c" / "img_000.png")),
    )


@pytest.mark.parametrize(
    "options", [["--tile", "64"], ["--batch-size", "2"], ["--lanes", "2"]], ids=lambda o: o[0]
)
def test_a_named_engine_refuses_what_it_cannot_do(
    run_dir: Path, tmp_path: Path, options: list[str], capsys: pytest.CaptureFixture
) -> None:
    from gan_style.cli import main

    write_images(tmp_path / "in", 1)
    argv = ["translate", str(run_dir), str(tmp_path / "in"), "--out", str(tmp_path / "out"),
            "--device", "cpu", "--engine", "int8", *options]  # fmt: skip
    assert main(argv) == 2
    assert "--engine int8 translates whole images one at a time" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# --- the other users of the engine -----------------------------------------------------------


def _pngs(folder: Path) -> dict[str, np.ndarray]:
    return {p.relative_to(folder).as_posix(): np.asarray(Image.open(p))
            for p in sorted(folder.rglob("*.png"))}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("command", ["gallery", "evaluate"])
def test_gallery_and_evaluate_translate_on_the_engine(
    command: str, run_dir: Path, tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gan_style.cli import main

    outputs = {}
    for engine in ("pytorch", "openvino"):
        monkeypatch.setattr(engine_policy, "DEFAULT_ENGINE", engine)
        out = tmp_path / engine
        options = ["--no-fid", "--no-lpips"] if command == "evaluate" else []
        assert main([command, str(run_dir), "--out", str(out), "--device", "cpu", *options]) == 0
        outputs[engine] = _pngs(out)
    assert list(cache.glob("*.fp32.onnx")), "nothing was converted"
    converted = outputs["openvino"]
    translated = [name for name in converted if "real" not in name and "input" not in name]
    assert translated and converted.keys() == outputs["pytorch"].keys()
    for name in translated:
        if converted[name].ndim == 3 and converted[name].shape[2] == 3:
            difference = grey_difference(converted[name], outputs["pytorch"][name])
            # A reconstruction (and the sheet that shows them) went through both networks.
            chained = "rec_" in name or "contact_sheet" in name
            assert difference.max() <= (3 if chained else 2) and difference.mean() < 0.25, name


@pytest.mark.slow
def test_the_web_page_translates_as_translate_does_on_the_engine(
    run_dir: Path, tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gan_style.app.handlers import ModelCache, translate_uploads
    from gan_style.cli import main
    from gan_style.image_io import load_image

    monkeypatch.setattr(engine_policy, "DEFAULT_ENGINE", "openvino")
    write_images(tmp_path / "in", 2, size=(37, 53))
    files = sorted((tmp_path / "in").iterdir())
    result = translate_uploads(ModelCache([run_dir], "cpu"), [str(f) for f in files], "tiny/t")
    assert result.messages == ["translated 2 of 2 image(s)"]
    assert list(cache.glob("*.fp32.onnx")), "the page did not convert the generator"
    argv = ["translate", str(run_dir), *map(str, files), "--out", str(tmp_path / "cli"),
            "--device", "cpu", "--engine", "openvino"]  # fmt: skip
    assert main(argv) == 0
    for file, download in zip(files, result.downloads, strict=True):
        np.testing.assert_array_equal(
            load_image(download), load_image(tmp_path / "cli" / file.name)
        )
