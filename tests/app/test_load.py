"""The web page under load, as a crowd meets it: `gan-style serve` on loopback with a login,
16 translate requests at once (256 to 2,048 px) and bad uploads. Every good request gets its
image or "try again"; the server stays up, within its memory bound, and stops on SIGTERM
mid-job leaving no file behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.app.test_browser import free_port, wait_for_page
from tests.conftest import header_bomb

pytestmark = pytest.mark.slow

SIZES = (256, 512, 1024, 2048)  # long sides, cycled over the requests
REQUESTS = 16
QUEUE_SIZE = 6  # small, so that some of the 16 are told to try again
MAX_UPLOAD_MB = 1.5
# The server's peak resident memory: Python, PyTorch, Gradio and OpenVINO (about 0.9 GiB) plus
# one 2,048 px image through this network and the first request's int8 conversion; measured
# 983-1,591 MiB, depending on which sizes the queue let in.
MEMORY_BOUND_MIB = 2048
LOGIN = ("artist", "s3cret")


def photo(path: Path, side: int, seed: int) -> Path:
    """A smooth photo-like JPEG, `side` px on its long side."""
    rng = np.random.default_rng(seed)
    h, w = side * 3 // 4, side
    yy, xx = np.mgrid[0:h, 0:w] / side
    base = rng.uniform(0.2, 0.8, 3)
    image = np.stack([base[c] + 0.2 * np.sin(8 * (xx + yy * (c + 1)) + seed) for c in range(3)], -1)
    Image.fromarray((np.clip(image, 0, 1) * 255).astype(np.uint8)).save(path, quality=90)
    return path


def peak_memory_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_sixteen_at_once_bad_uploads_a_login_and_sigterm(run_dir: Path, tmp_path: Path) -> None:
    client_module = pytest.importorskip("gradio_client")
    port, temp = free_port(), tmp_path / "server_tmp"
    temp.mkdir()
    log = tmp_path / "serve.log"
    env = os.environ | {"TMPDIR": str(temp), "GAN_STYLE_CACHE": str(tmp_path / "cache")}
    env.pop("GRADIO_TEMP_DIR", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "gan_style.cli", "serve", str(run_dir), "--port", str(port),
         "--device", "cpu", "--auth", ":".join(LOGIN), "--queue-size", str(QUEUE_SIZE),
         "--max-upload-mb", str(MAX_UPLOAD_MB)],
        stdout=log.open("w"), stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_page(url, process, log)
        with pytest.raises(ValueError):  # no login, no page
            client_module.Client(url, verbose=False, download_files=str(tmp_path / "got"))
        client = client_module.Client(
            url, auth=LOGIN, verbose=False, download_files=str(tmp_path / "got")
        )

        def translate(*paths: Path):
            files = [client_module.handle_file(str(p)) for p in paths]
            return client.submit(files, "tiny/t", "generator", "AtoB", "one style", None, None,
                                 0, api_name="/translate")  # fmt: skip

        inputs = tmp_path / "in"
        inputs.mkdir()
        good = [photo(inputs / f"p{i:02d}.jpg", SIZES[i % 4], i) for i in range(REQUESTS)]
        started = time.monotonic()
        jobs = [(p, translate(p)) for p in good]
        served, retry, failed, slowest = 0, 0, [], 0.0
        for path, job in jobs:
            try:
                _, download, message = job.result(timeout=600)
            except Exception as e:  # what the client raises is what the user is told
                if "try again" in str(e).lower():
                    retry += 1
                else:
                    failed.append(f"{path.name}: {e}")
                continue
            slowest = max(slowest, time.monotonic() - started)
            assert message.startswith("translated 1 of 1"), message
            with Image.open(download[0]) as out, Image.open(path) as source:
                assert out.size == source.size
            served += 1

        # Bad uploads: each named with its reason, none taking the server down.
        (inputs / "notes.png").write_text("not an image")
        (inputs / "bomb.png").write_bytes(header_bomb())
        cut = inputs / "cut.jpg"
        cut.write_bytes(good[1].read_bytes()[:2000])
        _, _, message = translate(inputs / "notes.png", inputs / "bomb.png", cut).result(600)
        assert message.splitlines()[0] == "translated 0 of 3 image(s)"
        assert all(name in message for name in ("notes.png", "bomb.png", "cut.jpg")), message
        big = inputs / "big.png"
        big.write_bytes(np.random.default_rng(0).bytes(2 * 2**20))
        with pytest.raises(Exception, match=r"(?i)size"):
            translate(big).result(600)

        # Still up: the page answers (its login, here) and translates.
        assert urllib.request.urlopen(url, timeout=30).status == 200
        _, download, message = translate(good[0]).result(600)
        assert message.startswith("translated 1 of 1") and Path(download[0]).is_file()
        peak = peak_memory_mib(process.pid)
        print(
            f"\nload: {REQUESTS} sent, {served} served, {retry} told to try again, "
            f"{len(failed)} failed; slowest answer {slowest:.1f} s; server peak {peak:.0f} MiB"
        )
        assert not failed, failed
        assert served >= QUEUE_SIZE and served + retry == REQUESTS
        assert peak < MEMORY_BOUND_MIB

        # SIGTERM mid-job: the job finishes writing, then every file the server wrote goes.
        job = translate(good[3])  # 2,048 px
        time.sleep(1.0)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=120) == 0, log.read_text()[-3000:]
        assert job.done()
        assert not list(temp.glob("gan_style_page_*")), list(temp.rglob("*"))  # all removed
    finally:
        if process.poll() is None:
            process.kill()
