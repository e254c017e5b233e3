from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_style.errors import CheckpointError
from gan_style.runtime import checkpoint as ckpt


def test_atomic_save_keeps_previous_file_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "latest.pt"
    ckpt.save_atomic({"step": 1}, path)

    def broken_save(obj, f) -> None:
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        ckpt.save_atomic({"step": 2}, path)
    monkeypatch.undo()
    assert ckpt.load(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["latest.pt"]  # no temporary files left


def test_rng_state_round_trip() -> None:
    state = ckpt.rng_state()
    expected = (torch.rand(3), random.random(), np.random.rand())
    torch.rand(5), random.random(), np.random.rand()
    ckpt.set_rng_state(state)
    assert torch.equal(torch.rand(3), expected[0])
    assert random.random() == expected[1] and np.random.rand() == expected[2]


def test_rng_state_survives_weights_only_load(tmp_path: Path) -> None:
    ckpt.save_atomic({"rng": ckpt.rng_state()}, tmp_path / "x.pt")
    ckpt.set_rng_state(ckpt.load(tmp_path / "x.pt")["rng"])


@pytest.mark.parametrize("content", [b"", b"garbage", None])
def test_unreadable_checkpoint(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "bad.pt"
    if content is None:
        ckpt.save_atomic({"w": torch.zeros(1000)}, path)
        path.write_bytes(path.read_bytes()[:500])  # truncated
    else:
        path.write_bytes(content)
    with pytest.raises(CheckpointError, match=r"bad\.pt is not a readable checkpoint"):
        ckpt.load(path)


def test_missing_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not found"):
        ckpt.load(tmp_path / "nope.pt")


def test_architecture_mismatch_names_both() -> None:
    small, big = torch.nn.Conv2d(1, 2, 3), torch.nn.Conv2d(1, 4, 3)
    with pytest.raises(
        CheckpointError, match="G_AB in the checkpoint is ngf=4, but this run builds ngf=2"
    ):
        ckpt.load_state_dict_checked(small, big.state_dict(), "G_AB", "ngf=4", "ngf=2")


def test_prune_keeps_newest(tmp_path: Path) -> None:
    for step in (5, 10, 15, 20):
        (tmp_path / f"step_{step:07d}.pt").touch()
    ckpt.prune(tmp_path, keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step_0000015.pt", "step_0000020.pt"]
