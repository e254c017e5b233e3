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
    expected = (torch.rand(3), random.random(), np.random.rand())
    ckpt.set_rng_state(ckpt.load(tmp_path / "x.pt")["rng"])
    assert torch.equal(torch.rand(3), expected[0])
    assert (random.random(), np.random.rand()) == expected[1:]


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


class Counter:
    """A top-level piece of state, like the loop's progress."""

    def __init__(self) -> None:
        self.step = 0

    def state_dict(self) -> dict:
        return {"step": self.step}

    def load_state_dict(self, state: dict) -> None:
        self.step = state["step"]


def declared(net: torch.nn.Module, counter: Counter, extra: dict) -> ckpt.CheckpointIO:
    opt = torch.optim.Adam(net.parameters(), lr=0.1)
    return ckpt.CheckpointIO(
        counter,
        model=net,
        optimizer=opt,
        extra=ckpt.Entry(lambda: dict(extra), extra.update),
        scaler=ckpt.Entry(lambda: {}, lambda s: extra.update(scaler_loaded=True), optional=True),
    )


class TestCheckpointIO:
    def test_saves_and_restores_what_was_declared(self, tmp_path: Path) -> None:
        torch.manual_seed(0)
        net, counter, extra = torch.nn.Linear(3, 2), Counter(), {"pool": [1, 2]}
        io = declared(net, counter, extra)
        net(torch.ones(1, 3)).sum().backward()
        io.named["optimizer"].step()
        counter.step = 7
        ckpt.save_atomic(io.state_dict(), tmp_path / "latest.pt")
        saved = ckpt.load(tmp_path / "latest.pt")
        assert sorted(saved) == ["extra", "format", "model", "optimizer", "scaler", "step"]

        torch.manual_seed(1)
        net2, counter2, extra2 = torch.nn.Linear(3, 2), Counter(), {}
        io2 = declared(net2, counter2, extra2)
        io2.load_state_dict(saved, tmp_path / "latest.pt")
        assert counter2.step == 7 and extra2 == {"pool": [1, 2]}  # an empty scaler is skipped
        assert torch.equal(net2.weight, net.weight)
        assert io2.named["optimizer"].state_dict()["state"][0]["step"] == 1

    def test_weights_of_another_shape_are_one_line(self, tmp_path: Path) -> None:
        saved = declared(torch.nn.Linear(3, 4), Counter(), {}).state_dict()
        target = declared(torch.nn.Linear(3, 2), Counter(), {})
        with pytest.raises(CheckpointError, match=r"x\.pt: its 'model' does not fit this run"):
            target.load_state_dict(saved, tmp_path / "x.pt")

    def test_missing_entry(self, tmp_path: Path) -> None:
        saved = declared(torch.nn.Linear(3, 2), Counter(), {}).state_dict()
        del saved["optimizer"]
        with pytest.raises(CheckpointError, match="lacks 'optimizer'; it is not a full checkpoint"):
            declared(torch.nn.Linear(3, 2), Counter(), {}).load_state_dict(saved, "x.pt")


class TestGeneratorFile:
    def test_both_layouts_give_the_same_weights(self, tmp_path: Path) -> None:
        nets = {"G_AB": torch.nn.Conv2d(3, 3, 1), "G_BA": torch.nn.Conv2d(3, 3, 1)}
        ckpt.save_generators(tmp_path / "generator.pt", {"name": "x"}, 5, nets)
        from_file = ckpt.network_weights(ckpt.load(tmp_path / "generator.pt"), ["G_AB", "G_BA"])
        model = torch.nn.ModuleDict(nets)
        from_training = ckpt.network_weights({"model": model.state_dict()}, ["G_AB", "G_BA", "D"])
        assert sorted(from_file) == sorted(from_training) == ["G_AB", "G_BA"]
        for name, net in nets.items():
            for key, value in net.state_dict().items():
                assert torch.equal(from_file[name][key], value)
                assert torch.equal(from_training[name][key], value)
        assert ckpt.load(tmp_path / "generator.pt")["step"] == 5

    def test_resolve_prefers_the_generator_file(self, tmp_path: Path) -> None:
        with pytest.raises(CheckpointError, match=r"holds no generator\.pt or latest\.pt"):
            ckpt.resolve(tmp_path)
        (tmp_path / "latest.pt").touch()
        assert ckpt.resolve(tmp_path) == tmp_path / "latest.pt"
        (tmp_path / "generator.pt").touch()
        assert ckpt.resolve(tmp_path) == tmp_path / "generator.pt"
        assert ckpt.resolve(tmp_path / "latest.pt") == tmp_path / "latest.pt"


def test_prune_keeps_newest(tmp_path: Path) -> None:
    for step in (5, 10, 15, 20):
        (tmp_path / f"step_{step:07d}.pt").touch()
    ckpt.prune(tmp_path, keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step_0000015.pt", "step_0000020.pt"]
