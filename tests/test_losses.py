from __future__ import annotations

import math

import pytest
import torch

from gan_style.losses import GANLoss, gradient_penalty, l1_loss

PRED = torch.tensor([0.5, 2.0])


class TestGANLoss:
    @pytest.mark.parametrize(
        ("mode", "real", "fake", "generator"),
        [
            # lsgan: mean((D - 1)^2), mean(D^2); the generator uses the real target.
            ("lsgan", (0.25 + 1.0) / 2, (0.25 + 4.0) / 2, (0.25 + 1.0) / 2),
            # hinge: mean(relu(1 - D)), mean(relu(1 + D)); the generator maximises D.
            ("hinge", (0.5 + 0.0) / 2, (1.5 + 3.0) / 2, -1.25),
            # wgangp: the critic lowers D on fakes and raises it on reals.
            ("wgangp", -1.25, 1.25, -1.25),
        ],
    )
    def test_hand_computed(self, mode: str, real: float, fake: float, generator: float) -> None:
        loss = GANLoss(mode)
        assert loss(PRED, True).item() == pytest.approx(real)
        assert loss(PRED, False).item() == pytest.approx(fake)
        assert loss(PRED, True, for_discriminator=False).item() == pytest.approx(generator)

    def test_vanilla_is_cross_entropy_on_logits(self) -> None:
        loss = GANLoss("vanilla")
        assert loss(torch.zeros(3), True).item() == pytest.approx(math.log(2))
        sigmoid = 1 / (1 + math.exp(-2.0))
        assert loss(torch.tensor([2.0]), False).item() == pytest.approx(-math.log(1 - sigmoid))

    def test_unknown_mode(self) -> None:
        with pytest.raises(ValueError, match="lsgan, vanilla, hinge, wgangp"):
            GANLoss("least_squares")


def test_gradient_penalty_of_a_linear_critic() -> None:
    """D(x) = 2 * sum(x) has gradient 2 everywhere: norm 2 * sqrt(4) = 4, penalty (4 - 1)^2."""

    def critic(x: torch.Tensor) -> torch.Tensor:
        return 2 * x.flatten(1).sum(1)

    real, fake = torch.randn(3, 1, 2, 2), torch.randn(3, 1, 2, 2)
    assert gradient_penalty(critic, real, fake).item() == pytest.approx(9.0)


def test_gradient_penalty_is_differentiable() -> None:
    critic = torch.nn.Conv2d(1, 1, 2)
    gp = gradient_penalty(critic, torch.randn(2, 1, 3, 3), torch.randn(2, 1, 3, 3))
    gp.backward()
    assert critic.weight.grad is not None


def test_l1() -> None:
    assert l1_loss(torch.tensor([1.0, -1.0]), torch.tensor([0.0, 1.0])).item() == pytest.approx(1.5)


class TestCycleBlur:
    def test_gaussian_blur_is_scipys(self) -> None:
        """SciPy's `mirror` mode is PyTorch's `reflect`; the kernel spans 2.5 sigma each side."""
        from scipy import ndimage

        from gan_style.losses import gaussian_blur

        x = torch.rand(1, 2, 12, 15)
        got = gaussian_blur(x, 1.2)
        expected = ndimage.gaussian_filter(
            x.numpy(), (0, 0, 1.2, 1.2), mode="mirror", truncate=3 / 1.2
        )
        assert torch.allclose(got, torch.from_numpy(expected), atol=1e-5)
        assert torch.equal(gaussian_blur(x, 0), x)

    def test_fine_texture_need_not_come_back(self) -> None:
        from gan_style.models.cycle_gan import cycle_losses

        real = torch.zeros(1, 3, 16, 16)
        yy, xx = torch.meshgrid(torch.arange(16), torch.arange(16), indexing="ij")
        texture = 0.5 * (-1.0) ** (yy + xx)  # pixel-scale, zero-mean: lost on the way back
        plain = cycle_losses(real, real, real + texture, real, 10.0)
        blurred = cycle_losses(real, real, real + texture, real, 10.0, blur=1.0)
        assert plain["G/cycle_A"].item() == pytest.approx(10 * 0.5)
        assert blurred["G/cycle_A"].item() < 0.05 * plain["G/cycle_A"].item()
        shifted = real.clone()
        shifted[..., :8, :] += 0.5  # structure, not texture: the blurred loss still sees it
        assert cycle_losses(real, real, shifted, real, 10.0, blur=1.0)["G/cycle_A"] > 2.0
