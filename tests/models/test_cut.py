"""CUT and FastCUT: PatchNCE, the patch sampler, training, resume and the commands."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from gan_style.cli import main
from gan_style.config import Config, ConfigError, load_config
from gan_style.losses import patch_nce_loss
from gan_style.models import CUT, FastCUT, build_model
from gan_style.models.cut import PatchSampler
from gan_style.networks import build_generator
from gan_style.runtime import checkpoint as ckpt
from gan_style.training.loop import train
from tests.conftest import REPO

CUT_MODEL = {"name": "cut", "nce_patches": 16, "nce_mlp": 16}


def test_patch_nce_equals_a_hand_computation() -> None:
    torch.manual_seed(0)
    q = F.normalize(torch.randn(2, 3, 4), dim=-1)
    k = F.normalize(torch.randn(2, 3, 4), dim=-1)
    expected = []
    for b in range(2):
        for i in range(3):
            positive = float(q[b, i] @ k[b, i])
            negatives = [float(q[b, i] @ k[b, j]) for j in range(3) if j != i]
            # The reference code keeps the P x P layout and masks the diagonal with -10.
            logits = np.array([positive, *negatives, -10.0]) / 0.07
            expected.append(-(logits[0] - np.log(np.exp(logits).sum())))
    assert patch_nce_loss(q, k, 0.07).item() == pytest.approx(np.mean(expected), rel=1e-5)


def test_patch_nce_prefers_matching_patches() -> None:
    torch.manual_seed(0)
    k = F.normalize(torch.randn(1, 8, 16), dim=-1)
    assert patch_nce_loss(k, k) < patch_nce_loss(k.roll(1, dims=1), k)
    q = k.clone().requires_grad_(True)
    patch_nce_loss(q, k).backward()
    assert q.grad is not None and q.grad.abs().sum() > 0


def test_sampler_uses_the_same_locations_and_the_seeded_generator() -> None:
    sampler = PatchSampler([3, 5], width=8)
    features = [torch.randn(2, 3, 4, 4), torch.randn(2, 5, 2, 2)]
    torch.manual_seed(1)
    where = [PatchSampler.locations(f, 6) for f in features]
    torch.manual_seed(1)
    again = [PatchSampler.locations(f, 6) for f in features]
    assert all(torch.equal(a, b) for a, b in zip(where, again, strict=True))
    assert [len(w) for w in where] == [6, 4]  # a 2x2 map has only 4 locations
    out = sampler(features, where)
    assert [o.shape for o in out] == [(2, 6, 8), (2, 4, 8)]
    assert torch.allclose(out[0].norm(dim=-1), torch.ones(2, 6))


def test_heads_are_built_with_the_model(make_config) -> None:
    """No lazy construction: a fresh model's state dict already holds the heads."""
    model = build_model(make_config(model=CUT_MODEL))
    assert isinstance(model, CUT)
    heads = [k for k in model.state_dict() if k.startswith("F.heads.")]
    assert len(heads) == 5 * 4  # two linear layers (weight, bias) per layer of nce_layers
    assert model.F.heads[1][0].in_features == 16  # module 4: the first downsampling, 8 -> 16


def test_fastcut_records_its_settings(make_config) -> None:
    cfg = FastCUT.prepare_config(make_config(model={**CUT_MODEL, "name": "fastcut"}))
    assert (cfg.loss.lambda_nce, cfg.loss.nce_identity, cfg.loss.flip_equivariance) == (
        10.0,
        False,
        True,
    )
    model = build_model(cfg)
    batch = {"A": torch.rand(1, 3, 32, 32) * 2 - 1, "B": torch.rand(1, 3, 32, 32) * 2 - 1}
    assert set(model.generator_step(batch)) == {"G/gan", "G/nce", "G/total"}


def test_cut_needs_a_resnet(make_config) -> None:
    with pytest.raises(ConfigError, match="PatchNCE features from a ResNet"):
        make_config(
            model={**CUT_MODEL, "generator": "unet_128"}, data={"crop_size": 128, "load_size": 128}
        )


def test_antialiased_generator_keeps_sizes() -> None:
    torch.manual_seed(0)
    net = build_generator("resnet_6blocks", ngf=4, antialias=True)
    x = torch.rand(1, 3, 36, 44)
    assert net(x).shape == x.shape
    assert [f.shape[-1] for f in net.encode(x, [0, 4, 8, 12])] == [50, 44, 22, 11]
    assert not any("kernel" in k for k in net.state_dict())  # the blur is fixed, not saved


@pytest.mark.slow
@pytest.mark.parametrize("name", ["cut", "fastcut"])
def test_trains_and_resumes_exactly(make_config, name: str) -> None:
    model = {**CUT_MODEL, "name": name, "antialias": True}
    straight = train(make_config(model=model, train={"max_steps": 6}), run="straight")
    train(make_config(model=model, train={"max_steps": 3}), run="resumed")
    resumed = train(make_config(model=model, train={"max_steps": 6}), run="resumed")
    a = ckpt.load(straight / "latest.pt")["model"]
    b = ckpt.load(resumed / "latest.pt")["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    first = build_model(make_config(model=model) if name == "cut" else
                        FastCUT.prepare_config(make_config(model=model))).state_dict()  # fmt: skip
    assert any(not torch.equal(first[k], a[k]) for k in a if k.startswith("F."))  # heads train
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    nce = [e.value for e in EventAccumulator(str(straight)).Reload().Scalars("Loss/G/nce")]
    assert len(nce) == 6 and nce[-1] != nce[0]


@pytest.mark.slow
def test_commands_accept_cut_checkpoints(make_config, tmp_path: Path, capsys) -> None:
    run = train(make_config(model=CUT_MODEL, train={"max_steps": 2}), run="c")
    photo = tmp_path / "photo.png"
    Image.new("RGB", (30, 26), (120, 80, 40)).save(photo)
    assert main(["translate", str(run), str(photo), "--out", str(tmp_path / "t")]) == 0
    assert Image.open(tmp_path / "t" / "photo.png").size == (30, 26)
    assert main(["translate", str(run), str(photo), "--out", str(tmp_path / "u"),
                 "--direction", "BtoA"]) == 2  # fmt: skip
    assert "translates one way only" in capsys.readouterr().err
    assert main(["evaluate", str(run), "--no-fid", "--out", str(tmp_path / "e")]) == 0
    assert "content" in capsys.readouterr().out
    assert main(["gallery", str(run), "--out", str(tmp_path / "g")]) == 0
    assert "cycle" not in (tmp_path / "g" / "index.html").read_text()
    assert main(["export", str(run), "--format", "torchscript"]) == 0


def test_shipped_cut_experiments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    cut = load_config("horse2zebra_cut")
    assert (cut.model.name, cut.model.antialias, cut.train.pool_size) == ("cut", True, 0)
    assert (cut.train.epochs, cut.train.epochs_decay, cut.model.nce_layers) == (
        200, 200, [0, 4, 8, 12, 16],
    )  # fmt: skip
    fast = load_config("horse2zebra_fastcut")
    assert (fast.model.name, fast.train.epochs, fast.train.epochs_decay) == ("fastcut", 150, 50)
    demo: Config = load_config("demo_cut", ["model.nce_layers=0,4,8"])
    assert demo.model.nce_layers == [0, 4, 8] and demo.data.root == "data/demo"
