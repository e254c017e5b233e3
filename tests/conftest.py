"""Shared fixtures: tiny generated datasets and tiny configs, so tests run in seconds on CPU."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_style.config import Config, from_dict
from gan_style.evaluation import style_score
from gan_style.inference import engine_policy

REPO = Path(__file__).resolve().parents[1]
MONET_MINI = REPO.parent / "shared" / "data" / "monet2photo-mini"


def write_images(folder: Path, count: int, size: tuple[int, int] = (40, 48), seed: int = 0) -> None:
    """Smooth random colour images (gradients plus blobs), different per seed."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    for i in range(count):
        base = rng.uniform(0, 1, 3)
        img = np.stack(
            [base[c] * 0.6 + 0.4 * np.sin(6 * (xx + yy * (c + 1)) + i) for c in range(3)], -1
        )
        Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8)).save(
            folder / f"img_{i:03d}.png"
        )


def translate_in_new_process(args: list[str], cache: Path) -> subprocess.CompletedProcess:
    """`gan-style` `args` in a fresh process with its own cache, printing whether PyTorch was
    imported. The default engine there is the user's (auto): tests give the engine."""
    code = (
        "import sys; from gan_style.cli import main; "
        f"rc = main({args!r}); print('TORCH', 'torch' in sys.modules); sys.exit(rc)"
    )
    env = {"GAN_STYLE_CACHE": str(cache), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, env=env
    )


@pytest.fixture(autouse=True)
def pytorch_engine(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):
    """In this process the default engine is PyTorch, unless a test asks for the converted one
    (`--engine int8`, or `auto` as the default again): converting every test's random networks
    would cost seconds each, and the tests that compare outputs compare PyTorch's. Nothing is
    cached under the user's home folder."""
    monkeypatch.setattr(engine_policy, "DEFAULT_ENGINE", "pytorch")
    monkeypatch.setenv("GAN_STYLE_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
    # The style score's classifier in a sixth of its steps: the tests' domains are easy to
    # tell apart, and every evaluation of a run on unpaired data trains one.
    monkeypatch.setitem(style_score.RECIPE, "steps", 100)


@pytest.fixture
def tiny_dataset(tmp_path: Path) -> Path:
    root = tmp_path / "tiny"
    write_images(root / "trainA", 4, seed=1)
    write_images(root / "trainB", 3, seed=2)
    write_images(root / "testA", 2, seed=3)
    write_images(root / "testB", 2, seed=4)
    return root


STYLES = ["monet", "ukiyoe"]


@pytest.fixture
def styled_root(tmp_path: Path) -> Path:
    """A multistyle dataset: photos in trainA/, paintings in trainB/<style>/."""
    root = tmp_path / "styled"
    write_images(root / "trainA", 4, seed=1)
    write_images(root / "testA", 2, seed=2)
    for i, style in enumerate(STYLES):
        write_images(root / "trainB" / style, 2, seed=10 + i)
        write_images(root / "testB" / style, 1, seed=20 + i)
    return root


def tiny_config(root: Path, runs: Path, **overrides: dict) -> Config:
    raw = {
        "name": "tiny",
        "data": {"root": str(root), "load_size": 36, "crop_size": 32, "num_workers": 0},
        "model": {"generator": "resnet_6blocks", "ngf": 8, "ndf": 8},
        "train": {"epochs": 1, "epochs_decay": 2, "max_steps": 6, "seed": 3, "device": "cpu",
                  "save_every": 2, "keep_checkpoints": 2},
        "log": {"runs_dir": str(runs), "every": 1, "sample_every": 2, "num_samples": 2},
    }  # fmt: skip
    for section, values in overrides.items():
        raw.setdefault(section, {}).update(values)
    return from_dict(raw)


@pytest.fixture
def make_config(tiny_dataset: Path, tmp_path: Path):
    def make(**overrides: dict) -> Config:
        return tiny_config(tiny_dataset, tmp_path / "runs", **overrides)

    return make


@pytest.fixture
def run_dir(make_config) -> Path:
    """A CycleGAN trained 4 steps, with step checkpoints at 2 and 4."""
    from gan_style.training.loop import train

    return train(
        make_config(train={"max_steps": 4, "save_every": 2, "keep_checkpoints": 3}), run="t"
    )


def header_bomb() -> bytes:
    """A small PNG whose header claims 30000 x 30000 pixels."""
    buffer = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    ihdr = bytearray(data[12:29])  # chunk type + 13 data bytes
    ihdr[4:12] = struct.pack(">II", 30000, 30000)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    return bytes(data)


def odd_files(folder: Path) -> dict[str, tuple[int, int] | None]:
    """A corpus of odd and bad image files; returns file name -> (width, height) of the image
    it holds, or None for a file that cannot be used."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)

    def rgb(h: int, w: int) -> Image.Image:
        return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))

    good = io.BytesIO()
    rgb(40, 48).save(good, "JPEG")
    (folder / "truncated.jpg").write_bytes(good.getvalue()[:400])
    (folder / "empty.png").write_bytes(b"")
    (folder / "text.png").write_text("this is not an image\n")
    (folder / "bomb.png").write_bytes(header_bomb())
    rgb(20, 24).convert("CMYK").save(folder / "cmyk.jpg")
    Image.fromarray(rng.integers(0, 65535, (18, 22), dtype=np.uint16)).save(folder / "deep16.png")
    Image.fromarray(rng.integers(0, 256, (17, 23, 4), dtype=np.uint8)).save(folder / "rgba.png")
    rgb(19, 21).convert("P").save(folder / "palette.png")
    rgb(1, 1).save(folder / "one pixel.png")
    rgb(7, 300).save(folder / "thin.png")
    rgb(26, 30).save(folder / "photo.webp", lossless=True)
    Image.fromarray(rng.random((15, 25), dtype=np.float32)).save(folder / "float.tif")
    frames = [rgb(16, 20) for _ in range(3)]
    frames[0].save(folder / "anim.gif", save_all=True, append_images=frames[1:])
    rotated = rgb(30, 50)
    exif = rotated.getexif()
    exif[0x0112] = 6  # rotate 90: the image is 30 wide and 50 high once shown
    rotated.save(folder / "phone.jpg", exif=exif)
    rgb(12, 14).save(folder / "café <tag> ünï.png")
    return {
        "truncated.jpg": None, "empty.png": None, "text.png": None, "bomb.png": None,
        "cmyk.jpg": (24, 20), "deep16.png": (22, 18), "rgba.png": (23, 17),
        "palette.png": (21, 19), "one pixel.png": (1, 1), "thin.png": (300, 7),
        "photo.webp": (30, 26), "float.tif": (25, 15), "anim.gif": (20, 16),
        "phone.jpg": (30, 50), "café <tag> ünï.png": (14, 12),
    }  # fmt: skip


@pytest.fixture(scope="session")
def fid_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised FID Inception network (the real architecture) saved as a file:
    the plumbing is tested without the official weights, which cannot be downloaded here."""
    from unittest import mock

    import torch
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    folder = tmp_path_factory.mktemp("fid")
    torch.save({}, folder / "empty.pth")
    torch.manual_seed(0)
    with mock.patch.object(FeatureExtractorInceptionV3, "load_state_dict", lambda *a, **k: None):
        net = FeatureExtractorInceptionV3("x", ["2048"], str(folder / "empty.pth"))
    for module in net.modules():  # variance-preserving, so that features are not vanishingly small
        if isinstance(module, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
    torch.save(net.state_dict(), folder / "random-inception.pth")
    return folder / "random-inception.pth"


@pytest.fixture(scope="session")
def alexnet_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised torchvision AlexNet saved as a file, for LPIPS without a download."""
    import torch
    from torchvision.models import alexnet

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("lpips") / "random-alexnet.pth"
    torch.save(alexnet(weights=None).state_dict(), path)
    return path


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
    """A real photo of the shared mini set (tests that need one are skipped without it, as the
    README says)."""
    from gan_style.image_io import load_image

    if not MONET_MINI.is_dir():
        pytest.skip(f"no {MONET_MINI} beside the checkout")
    return load_image(sorted((MONET_MINI / "testB").glob("*.jpg"))[0])


@pytest.fixture
def clip(tmp_path: Path, photo: np.ndarray) -> Path:
    """A clip made from `photo`: a slow pan and zoom, 24 frames of 96x72 at 12 fps (two
    seconds), with a 440 Hz tone as its sound."""
    from gan_style.video.demo_clip import write_demo_clip

    path = tmp_path / "clips" / "pan.mp4"
    path.parent.mkdir()
    write_demo_clip(path, photo)
    return path


def write_audio_only(path: Path) -> None:
    """A file with an AAC audio stream and no pictures."""
    import av

    with av.open(str(path), "w") as out:
        sound = out.add_stream("aac", rate=8000)
        chunk = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), "fltp", "mono")
        chunk.sample_rate = 8000
        for packet in [*sound.encode(chunk), *sound.encode(None)]:
            out.mux(packet)
