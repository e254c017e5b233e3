"""`gan-style gallery`: HTML galleries of checkpoints and runs."""

from __future__ import annotations

import html.parser
import urllib.parse
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_style.cli import main
from gan_style.training.loop import train

pytestmark = pytest.mark.slow


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


def test_gallery_skips_unreadable_images(run_dir: Path, tmp_path: Path, capsys) -> None:
    images = tmp_path / "images"
    images.mkdir()
    Image.new("RGB", (20, 24), (90, 40, 10)).save(images / "good.png")
    (images / "broken.png").write_bytes(b"not a png")
    out = tmp_path / "g"
    assert main(["gallery", str(run_dir), "--images", str(images), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "skipped: cannot read image" in err and "broken.png" in err
    assert "good.png" in (out / "index.html").read_text()
    assert "broken.png" not in (out / "index.html").read_text()


def test_gallery_needs_at_least_one_image(run_dir: Path, capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["gallery", str(run_dir), "--n", "0"])
    assert stop.value.code == 2 and "--n: must be 1 or more" in capsys.readouterr().err
