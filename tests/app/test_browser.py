"""End to end in a real browser: `gan-style serve` on loopback, driven by headless Chromium."""

from __future__ import annotations

import base64
import contextlib
import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_style.cli import main
from gan_style.image_io import load_image
from gan_style.training.loop import train
from gan_style.video.clips import probe
from tests.conftest import write_images
from tests.data.test_restoration import restoration_config
from tests.models.test_multistyle import styled_config

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# As root in a closed network: no sandbox, and none of Chromium's own connections.
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


# Playwright waits 30 s by default; uploading and translating on 2 busy cores took longer.
LOADED_MACHINE_MS = 120_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_page(url: str, process: subprocess.Popen, log: Path) -> None:
    """Until `serve` answers at `url` (at most 120 s); a server that exits fails the test with
    the end of its `log`."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"serve exited: {log.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:  # it answers, if only to ask for a login
            return
        except OSError:
            time.sleep(0.5)
    process.kill()
    pytest.fail("serve did not answer within 120 s")


@contextlib.contextmanager
def serving(run_dir: Path, tmp_path: Path, *options: str) -> Iterator[str]:
    """`gan-style serve RUN [options]` in its own process until the block ends; yields the
    page's URL."""
    port = free_port()
    env = os.environ | {"GRADIO_TEMP_DIR": str(tmp_path / "gradio")}
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gan_style.cli", "serve", str(run_dir), "--port", str(port),
         "--device", "cpu", *options],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    wait_for_page(url, process, tmp_path / "serve.log")
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def server(run_dir: Path, tmp_path: Path) -> Iterator[str]:
    with serving(run_dir, tmp_path) as url:
        yield url


def log_in(page, user: str, password: str) -> None:
    """Gradio's login form: a wrong password is refused, the right one opens the page."""
    page.fill("input[type=password]", "wrong")
    page.fill("input:not([type=password])", user)
    page.click("button:has-text('Login')")
    page.wait_for_selector("text=/incorrect/i")
    page.fill("input:not([type=password])", user)
    page.fill("input[type=password]", password)
    page.click("button:has-text('Login')")
    page.wait_for_selector("#translate")


def draw_and_paint(page, folder: Path) -> tuple[np.ndarray, np.ndarray, str]:
    """The Draw tab: two strokes with the mouse, Paint; downloads the result and the drawing
    into `folder`: (result, drawing, the Messages text)."""
    page.click("button[role=tab]:has-text('Draw')")
    page.click("#canvas button[aria-label=Brush]")
    box = page.locator("#canvas canvas").first.bounding_box()
    x, y = box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.3
    for start, end in (((x, y), (x + 80, y + 100)), ((x, y + 100), (x + 100, y + 100))):
        page.mouse.move(*start)
        page.mouse.down()
        page.mouse.move(*end, steps=12)
        page.mouse.up()
    page.click("#paint")
    page.wait_for_selector("#painted a[href*='result']")
    folder.mkdir()
    pictures = []
    for name in ("result", "drawing"):
        href = page.get_attribute(f"#painted a[href*='{name}']", "href")
        (folder / f"{name}.png").write_bytes(page.request.get(href).body())
        pictures.append(load_image(folder / f"{name}.png"))
    return pictures[0], pictures[1], page.input_value("#paint_status textarea")


def translate_one(page, photo: Path) -> tuple[np.ndarray, str]:
    """Upload `photo`, press Translate, download the output: (its pixels, the Messages text)."""
    page.set_input_files("#uploads input[type=file]", str(photo))
    page.wait_for_selector(f"#uploads :text('{photo.name}')")
    page.click("#translate")
    link = page.wait_for_selector(f"#downloads a[href*='{photo.stem}']")
    data = page.request.get(link.get_attribute("href")).body()
    served = np.array(Image.open(io.BytesIO(data)).convert("RGB"))
    return served, page.input_value("#status textarea")


def clip_and_camera(page, clip: Path, folder: Path) -> tuple[float, Path, set[str], bytes, str]:
    """The Video tab: upload `clip`, translate it, and read the played video's duration and
    file; the Live tab: start Chromium's fake camera and collect the translated frames' URLs
    until three have come. (duration, the served clip, frame URLs, one frame's bytes, the
    camera's picture as a data URL)."""
    page.click("button[role=tab]:has-text('Video')")
    page.set_input_files("#clip input[type=file]", str(clip))
    page.click("#translate_clip")
    video = page.wait_for_selector("#translated_clip video[src]")
    duration = page.evaluate(
        "v => new Promise(done => v.readyState >= 1 ? done(v.duration) : "
        "v.addEventListener('loadedmetadata', () => done(v.duration)))",
        video,
    )
    served = folder / "served.mp4"
    served.write_bytes(page.request.get(video.get_attribute("src")).body())

    page.click("button[role=tab]:has-text('Live')")
    page.click("#live_steady input")  # each visitor's own steadier, kept between frames
    page.click("#camera button:has-text('Access Webcam')")
    page.click("#camera button[aria-label='capture photo']")
    seen: set[str] = set()
    deadline = time.monotonic() + 90
    while len(seen) < 3 and time.monotonic() < deadline:
        src = page.evaluate("(document.querySelector('#live_output img') || {}).src || ''")
        seen |= {src} if src else set()
        page.wait_for_timeout(100)
    camera = page.evaluate(
        """() => { const v = document.querySelector('#camera video');
        const c = document.createElement('canvas'); c.width = v.videoWidth;
        c.height = v.videoHeight; c.getContext('2d').drawImage(v, 0, 0);
        return c.toDataURL('image/png'); }"""
    )
    frame = page.request.get(sorted(seen)[0]).body() if seen else b""
    return duration, served, seen, frame, camera


CAMERA_FLAGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium: apt-get install chromium (.ci/run does)")
def test_upload_translate_download_in_chromium(
    server: str, run_dir: Path, clip: Path, tmp_path: Path
) -> None:
    """Translate, Draw, Video and Live tabs in one browser: an image and a drawing come back as
    the command makes them; a clip comes back playable with its sound; Chromium's fake camera
    turns into translated frames that keep coming and differ from the camera's."""
    playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    write_images(tmp_path / "photos", 1, size=(45, 61), seed=5)
    photo = tmp_path / "photos" / "img_000.png"
    outside: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS + CAMERA_FLAGS)
        page = browser.new_context(permissions=["camera"]).new_page()
        page.set_default_timeout(LOADED_MACHINE_MS)
        page.on(
            "request",
            lambda r: (
                None if r.url.startswith((server, "data:", "blob:")) else outside.append(r.url)
            ),
        )
        page.goto(server, wait_until="load")  # never network-idle: the camera's stream stays open
        page.wait_for_selector("#translate")
        assert "experiment tiny, model cycle_gan" in page.content()
        served, status = translate_one(page, photo)
        painted, drawing, painted_status = draw_and_paint(page, tmp_path / "drawn")
        duration, clip_back, frames, frame, camera = clip_and_camera(page, clip, tmp_path)
        browser.close()
    assert duration == pytest.approx(2.0, abs=0.1)
    assert probe(clip_back) == probe(clip)  # frames, rate, size and the sound
    assert len(frames) >= 3  # frames keep arriving
    translated = Image.open(io.BytesIO(frame)).convert("RGB")
    shot = Image.open(io.BytesIO(base64.b64decode(camera.split(",", 1)[1]))).convert("RGB")
    assert min(translated.size) == 128
    seen_by_camera = np.asarray(shot.resize(translated.size), dtype=np.float32)
    assert np.abs(np.asarray(translated, dtype=np.float32) - seen_by_camera).mean() > 10
    assert status == "translated 1 of 1 image(s)" == painted_status
    assert outside == []  # the page fetched nothing from the internet
    ink = drawing[..., 0] < 128
    assert 0.002 < ink.mean() < 0.2 and (drawing[0, 0] == 255).all()  # strokes on white paper
    assert main(["translate", str(run_dir), str(tmp_path / "drawn" / "drawing.png"), "--out",
                 str(tmp_path / "drawn_cli"), "--engine", "auto"]) == 0  # fmt: skip
    assert np.array_equal(painted, load_image(tmp_path / "drawn_cli" / "drawing.png"))
    assert served.shape == (45, 61, 3)
    # The page runs the user's default engine (auto), as the command does outside the suite.
    argv = ["translate", str(run_dir), str(photo), "--out", str(tmp_path / "cli")]
    assert main([*argv, "--engine", "auto"]) == 0
    assert np.array_equal(served, load_image(tmp_path / "cli" / "img_000.png"))


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium: apt-get install chromium (.ci/run does)")
def test_multistyle_blend_from_the_sliders_matches_the_command(
    styled_root: Path, tmp_path: Path
) -> None:
    """The page's blend sliders give the image that `translate --style monet:0.7,ukiyoe:0.3`
    gives: the sliders show for a multistyle model, carry the style names, and reach the code.
    Served with a login (`--auth`): the login page, too, fetches nothing from the internet."""
    playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    run = train(styled_config(styled_root, tmp_path / "runs"), run="s")
    write_images(tmp_path / "photos", 1, size=(40, 36), seed=6)
    photo = tmp_path / "photos" / "img_000.png"
    outside: list[str] = []
    with (
        serving(run, tmp_path, "--auth", "artist:s3cret") as url,
        playwright.sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        page.set_default_timeout(LOADED_MACHINE_MS)
        page.on(
            "request",
            lambda r: None if r.url.startswith((url, "data:", "blob:")) else outside.append(r.url),
        )
        page.goto(url, wait_until="load")
        log_in(page, "artist", "s3cret")
        page.click("#mode label:has-text('blend')")
        page.wait_for_selector("#weight1", state="visible")
        labels = [page.inner_text(f"#weight{i} label") for i in range(2)]
        for i, weight in enumerate(("0.7", "0.3")):
            page.fill(f"#weight{i} input[type=number]", weight)
            page.press(f"#weight{i} input[type=number]", "Tab")
        served, status = translate_one(page, photo)
        browser.close()
    assert [label.strip() for label in labels] == ["monet", "ukiyoe"] and outside == []
    assert status == "translated 1 of 1 image(s)"
    for style, equal in (("monet:0.7,ukiyoe:0.3", True), ("monet", False)):
        out = tmp_path / style.replace(":", "_").replace(",", "_")
        argv = ["translate", str(run), str(photo), "--out", str(out), "--style", style]
        assert main([*argv, "--engine", "auto"]) == 0  # the page's default engine
        assert np.array_equal(served, load_image(out / "img_000.png")) == equal, style


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium: apt-get install chromium (.ci/run does)")
def test_the_enhance_tab_enlarges_as_translate_does(tmp_path: Path) -> None:
    """An enlarger served on the page: the Enhance tab takes an upload, shows it beside its
    bicubic enlargement, and the download is twice the size and equal to what `gan-style
    translate` writes for the same image."""
    playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    root = tmp_path / "photos"
    write_images(root / "trainA", 3, size=(40, 48), seed=1)
    write_images(root / "testA", 2, size=(40, 48), seed=2)
    enlarger = train(restoration_config(root, tmp_path / "runs", model={"upscale": 2}), run="x2")
    write_images(tmp_path / "small", 1, size=(27, 35), seed=7)
    photo = tmp_path / "small" / "img_000.png"
    with serving(enlarger, tmp_path) as url, playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        page.set_default_timeout(LOADED_MACHINE_MS)
        page.goto(url, wait_until="load")
        page.click("button[role=tab]:has-text('Enhance')")
        page.set_input_files("#enhance_uploads input[type=file]", str(photo))
        page.wait_for_selector(f"#enhance_uploads :text('{photo.name}')")
        page.click("#enhance")
        link = page.wait_for_selector(f"#enhanced a[href*='{photo.stem}']")
        data = page.request.get(link.get_attribute("href")).body()
        status = page.input_value("#enhance_status textarea")
        browser.close()
    served = np.array(Image.open(io.BytesIO(data)).convert("RGB"))
    assert served.shape == (54, 70, 3) and "1 of 1" in status, status
    argv = ["translate", str(enlarger), str(photo), "--out", str(tmp_path / "cli")]
    assert main([*argv, "--engine", "auto"]) == 0  # the page's default engine
    assert np.array_equal(served, load_image(tmp_path / "cli" / "img_000.png"))
