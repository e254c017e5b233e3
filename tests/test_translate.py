"""`gan-style translate`, `gallery`, `export` and `pretrained` from the command line."""

from __future__ import annotations

import html.parser
import urllib.parse
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch
from PIL import Image

from gan_style.cli import main
from gan_style.export import export_generator
from gan_style.inference import load_generators
from gan_style.inference.pretrained import PRETRAINED_URL
from gan_style.training.loop import train

pytestmark = pytest.mark.slow


@pytest.fixture
def run_dir(make_config) -> Path:
    return train(
        make_config(train={"max_steps": 4, "save_every": 2, "keep_checkpoints": 3}), run="t"
    )


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


class Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.links += [v for k, v in attrs if k in ("src", "href")]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_gallery_of_a_run(run_dir: Path, tmp_path: Path, tiny_dataset: Path) -> None:
    images = tmp_path / "images"
    images.mkdir()
    names = ['quote"and<angle>&amp.png', "plain one.png"]
    for i, name in enumerate(names):
        Image.fromarray(np.full((24, 20, 3), 60 * i, np.uint8)).save(images / name)
    out = tmp_path / "gallery"
    assert (
        main(
            ["gallery", str(run_dir), "--images", str(images), "--out", str(out), "--device", "cpu"]
        )
        == 0
    )
    page = (out / "index.html").read_text()
    assert "<angle>" not in page and "&lt;angle&gt;" in page  # escaped
    parser = Links()
    parser.feed(page)
    text = "".join(parser.text)
    for name in names:
        assert name in text
    assert parser.links and all(
        (out / urllib.parse.unquote(link)).is_file() for link in parser.links
    )
    assert "step_0000002" in text and "step_0000004" in text and "cycle (step_0000004)" in text
    assert page.count("<tr>") == 1 + len(names)
    assert Image.open(out / "contact_sheet.png").size[0] > 4 * 128


def test_gallery_of_several_runs(make_config, tmp_path: Path) -> None:
    a = train(make_config(train={"max_steps": 1}), run="a")
    b = train(make_config(train={"max_steps": 2}), run="b")
    out = tmp_path / "g"
    assert (
        main(
            [
                "gallery",
                str(a),
                str(b / "latest.pt"),
                "--n",
                "1",
                "--out",
                str(out),
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    page = (out / "index.html").read_text()
    assert "tiny/a" in page and "latest" in page and "content SSIM" in page


def test_gallery_bad_checkpoint_name(run_dir: Path, capsys) -> None:
    assert main(["gallery", str(run_dir), "--checkpoints", "step_0000099"]) == 2
    assert (
        "no checkpoint 'step_0000099' (step files kept: step_0000002, step_0000004)"
        in capsys.readouterr().err
    )


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


def test_pretrained_download(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from gan_style.inference import pretrained
    from tests.reference_cyclegan import ResnetGenerator, instance_norm

    server = tmp_path / "server"
    server.mkdir()
    torch.save(
        ResnetGenerator(3, 3, ngf=4, norm_layer=instance_norm(), n_blocks=9).state_dict(),
        server / "style_monet.pth",
    )
    monkeypatch.setattr(pretrained, "PRETRAINED_URL", server.as_uri() + "/{name}.pth")
    assert main(["pretrained", "download", "style_monet", "--root", str(tmp_path / "w")]) == 0
    assert (
        load_generators(tmp_path / "w" / "style_monet.pth").config.model.generator
        == "resnet_9blocks"
    )
    assert main(["pretrained", "download", "style_cezanne", "--root", str(tmp_path / "w")]) == 2
    err = capsys.readouterr().err
    assert "could not download" in err and "Without network" in err and "style_cezanne.pth" in err
    assert main(["pretrained", "download", "style_monnet"]) == 2
    assert "did you mean 'style_monet'" in capsys.readouterr().err


def test_official_pretrained_url() -> None:
    assert PRETRAINED_URL.format(name="style_monet") == (
        "http://efrosgans.eecs.berkeley.edu/cyclegan/pretrained_models/style_monet.pth"
    )
