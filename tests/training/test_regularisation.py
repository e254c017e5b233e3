"""Discriminator regularisation for every model: R1 on real images, spectral norm and
DiffAugment."""

from __future__ import annotations

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from gan_style.losses import GANLoss, discriminator_losses
from gan_style.models import build_model
from gan_style.training.loop import train
from tests.training.test_loop import tensors_of

pytestmark = pytest.mark.slow


def test_r1_by_hand() -> None:
    """A linear critic D(x) = sum(w * x) has grad_x D = w for every image, so R1 with gamma 3 is
    3 / 2 * ||w||^2, whatever the images."""
    torch.manual_seed(0)
    w = torch.randn(1, 3, 4, 4)

    def critic(x: torch.Tensor) -> torch.Tensor:
        return (x * w).flatten(1).sum(1)

    real, fake = torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4)
    losses = discriminator_losses(GANLoss("lsgan", r1_weight=3.0), "D", critic, real, fake, 10.0)
    assert losses["D/r1"].item() == pytest.approx(1.5 * w.pow(2).sum().item(), rel=1e-5)
    plain = discriminator_losses(GANLoss("lsgan"), "D", critic, real, fake, 10.0)
    assert "D/r1" not in plain
    assert losses["D/total"].item() == pytest.approx(
        plain["D/total"].item() + losses["D/r1"].item()
    )


@pytest.mark.parametrize("name", ["cycle_gan", "cut", "pix2pix", "multistyle"])
def test_every_model_takes_the_three_options(make_config, styled_root, name: str) -> None:
    model_keys = {"name": name, "spectral_norm": True, "diffaugment": "color,cutout"}
    data = {"root": str(styled_root)} if name == "multistyle" else {}
    cfg = make_config(model=model_keys, loss={"lambda_r1": 1.0}, data=data)
    model = build_model(cfg)
    convs = [m for d in model.discriminators for m in d.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(hasattr(m, "parametrizations") for m in convs)
    assert not any(hasattr(m, "parametrizations") for g in model.generators for m in g.modules())
    assert all(d._forward_pre_hooks for d in model.discriminators)  # DiffAugment's
    assert not any(g._forward_pre_hooks for g in model.generators)


def test_cyclegan_trains_and_resumes_exactly_with_all_three(make_config) -> None:
    options = {
        "model": {"spectral_norm": True, "diffaugment": "color,translation,cutout"},
        "loss": {"lambda_r1": 1.0},
    }
    straight = train(make_config(train={"max_steps": 4}, **options), run="straight")
    train(make_config(train={"max_steps": 2}, **options), run="resumed")
    resumed = train(make_config(train={"max_steps": 4}, **options), run="resumed")
    a, b = tensors_of(straight / "latest.pt"), tensors_of(resumed / "latest.pt")
    assert any("parametrizations" in k for k in a) and all(torch.equal(a[k], b[k]) for k in a)
    r1 = [e.value for e in EventAccumulator(str(straight)).Reload().Scalars("Loss/D_A/r1")]
    assert len(r1) == 4 and all(v > 0 for v in r1)
