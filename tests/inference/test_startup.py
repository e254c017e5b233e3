"""Start-up: translating imports neither the training stack nor the evaluation stack.

Importing albumentations, TensorBoard, torchvision's model zoo or torch._dynamo cost `translate`
seconds before its first image; this test keeps them out (the time itself is `make bench`'s).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, write_images

pytestmark = pytest.mark.slow

HEAVY = ("albumentations", "tensorboard", "torchvision", "scipy", "skimage", "torch._dynamo",
         "torch._inductor", "gan_style.training", "gan_style.evaluation")  # fmt: skip


def test_translate_loads_only_what_it_needs(run_dir: Path, tmp_path: Path) -> None:
    write_images(tmp_path / "in", 1)
    argv = ["translate", str(run_dir), str(tmp_path / "in"), "--out", str(tmp_path / "out"),
            "--device", "cpu", "--engine", "pytorch"]  # fmt: skip
    code = (
        "import sys; from gan_style.cli import main; "
        f"assert main({argv!r}) == 0; "
        f"heavy = sorted(m for m in sys.modules if m.startswith({HEAVY!r})); "
        "print('HEAVY', heavy)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert "HEAVY []" in done.stdout, done.stdout
    assert (tmp_path / "out" / "img_000.png").is_file()


def test_translate_exits_quickly_with_its_status_and_output(run_dir: Path, tmp_path: Path) -> None:
    """The command skips Python's teardown after translating (`cli.console`): what it printed,
    its files and its exit status (1: an input was skipped) all survive the quick exit."""
    write_images(tmp_path / "in", 2)
    (tmp_path / "in" / "broken.png").write_bytes(b"not an image")
    done = subprocess.run(
        [sys.executable, "-m", "gan_style.cli", "translate", str(run_dir), str(tmp_path / "in"),
         "--out", str(tmp_path / "out"), "--device", "cpu", "--engine", "pytorch"],
        cwd=REPO, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert f"wrote 2 image(s) to {tmp_path / 'out'}" in done.stdout
    assert "broken.png" in done.stderr and "skipped 1 file(s), each named above" in done.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["img_000.png", "img_001.png"]


def test_quick_exit_only_after_commands_that_finish_their_files() -> None:
    from gan_style.cli import QUICK_EXIT, build_parser

    commands = build_parser()._subparsers._group_actions[0].choices
    assert set(QUICK_EXIT) <= set(commands) and "train" not in QUICK_EXIT


@pytest.mark.parametrize("unbuffered", ["1", ""])
def test_a_reader_that_leaves_gets_no_traceback(run_dir: Path, tmp_path: Path, unbuffered) -> None:
    """`gan-style translate ... | head -0`: the images are written, the command ends with status
    1 and says nothing more, whether its output was buffered or not."""
    import os

    write_images(tmp_path / "in", 1)
    env = {**os.environ, "PYTHONUNBUFFERED": unbuffered}
    child = subprocess.Popen(
        [sys.executable, "-m", "gan_style.cli", "translate", str(run_dir), str(tmp_path / "in"),
         "--out", str(tmp_path / "out"), "--device", "cpu", "--engine", "pytorch"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    child.stdout.close()  # the reader leaves before the first line
    stderr = child.stderr.read().decode()
    assert child.wait() == 1
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr
    assert (tmp_path / "out" / "img_000.png").is_file()
