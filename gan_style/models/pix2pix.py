"""pix2pix: a conditional GAN for paired translation (Isola et al. 2017).

| paper                  | code                                  |
|------------------------|---------------------------------------|
| x, y                   | real_A (input), real_B (target)       |
| G(x)                   | G_AB(real_A) = fake_B                 |
| D(x, y)                | D(cat(real_A, real_B)): a conditional PatchGAN |
| lambda (L1 weight 100) | lambda_l1                             |
| (GAN weight 1)         | lambda_gan                            |
| (not in the paper)     | lambda_l2: squared error to the target |

`loss.lambda_l2` adds the squared error, which PSNR scores (enlargers train on it); with
`loss.lambda_gan` 0 the discriminator is neither run nor trained.
`loss.lambda_perceptual` adds a VGG feature distance to the target (`models/perceptual.py`),
which colour filling and other one-to-many tasks use against L1's averaged, greyish outputs.
Restoration trains it on (damaged, clean) pairs; with `model.upscale` the input is smaller than
the target, and the discriminator sees it enlarged (bicubic) beside the output.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn
from torch.nn import functional as F

from gan_style.config import Config
from gan_style.losses import GANLoss, discriminator_losses, l1_loss
from gan_style.models.contract import Defaults, generator_options
from gan_style.models.perceptual import WithPerceptual, perceptual_network
from gan_style.networks import build_discriminator, build_generator, init_weights


class Pix2Pix(WithPerceptual, Defaults):
    """One generator A -> B; the discriminator judges (input, output) pairs, so it learns what a
    plausible output *for this input* looks like."""

    cycle: ClassVar[bool] = False
    styled: ClassVar[bool] = False

    def __init__(
        self,
        G_AB: nn.Module,
        D: nn.Module,
        gan_mode: str = "vanilla",
        lambda_l1: float = 100.0,
        lambda_gp: float = 10.0,
        lambda_perceptual: float = 0.0,
        vgg: nn.Module | None = None,
        lambda_gan: float = 1.0,
        lambda_l2: float = 0.0,
    ) -> None:
        super().__init__()
        self.G_AB, self.D = G_AB, D
        self.gan_loss = GANLoss(gan_mode)
        self.lambda_l1, self.lambda_gp, self.lambda_gan = lambda_l1, lambda_gp, lambda_gan
        self.lambda_l2 = lambda_l2
        self.attach_vgg(vgg, lambda_perceptual)
        self._fake_B: torch.Tensor | None = None

    @classmethod
    def inference_networks(cls, cfg: Config) -> dict[str, nn.Module]:
        m, ch = cfg.model, cfg.data.channels
        G = build_generator(m.generator, ch, ch, m.ngf, m.norm, m.dropout, **generator_options(m))
        return {"G_AB": init_weights(G, m.init, m.init_gain)}

    @classmethod
    def from_config(cls, cfg: Config) -> Pix2Pix:
        m, ch = cfg.model, cfg.data.channels
        G = cls.inference_networks(cfg)["G_AB"]
        D = build_discriminator(m.discriminator, 2 * ch, m.ndf, m.n_layers_d, m.norm)
        D = init_weights(D, m.init, m.init_gain)
        loss = cfg.loss
        return cls(G, D, loss.gan_mode, loss.lambda_l1, loss.lambda_gp,
                   loss.lambda_perceptual, perceptual_network(cfg), loss.lambda_gan,
                   loss.lambda_l2)  # fmt: skip

    @property
    def named_generators(self) -> dict[str, nn.Module]:
        return {"G_AB": self.G_AB}

    @property
    def generators(self) -> list[nn.Module]:
        return [self.G_AB]

    @property
    def discriminators(self) -> list[nn.Module]:
        return [self.D]

    def translate(self, real_A: torch.Tensor, real_B: torch.Tensor) -> dict[str, torch.Tensor]:
        """The translation of the input; pix2pix has no way back, so B is not used."""
        return {"fake_B": self.G_AB(real_A)}

    def sample_columns(self, real_A: torch.Tensor, real_B: torch.Tensor) -> dict[str, torch.Tensor]:
        shown = (
            F.interpolate(real_A, size=real_B.shape[-2:])
            if real_A.shape != real_B.shape
            else real_A
        )
        return {"real_A": shown, "fake_B": self.G_AB(real_A), "real_B": real_B}

    def generator_step(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        real_A, real_B = batch["A"], batch["B"]
        fake_B = self.G_AB(real_A)
        losses = {"G/gan": fake_B.new_zeros(()), "G/l1": l1_loss(fake_B, real_B) * self.lambda_l1}
        if self.lambda_gan > 0:
            judged = self.D(torch.cat([condition(real_A, real_B), fake_B], 1))
            losses["G/gan"] = self.gan_loss(judged, True, for_discriminator=False) * self.lambda_gan
        if self.lambda_l2 > 0:
            losses["G/l2"] = F.mse_loss(fake_B, real_B) * self.lambda_l2
        if self.lambda_perceptual > 0:
            losses["G/perceptual"] = self.perceptual(fake_B, real_B)
        losses["G/total"] = sum(losses.values())
        self._fake_B = fake_B.detach()
        return losses

    def discriminator_step(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """{} without the adversarial term: no discriminator to train."""
        if self.lambda_gan == 0:
            return {}
        if self._fake_B is None:
            raise RuntimeError("discriminator_step needs the fakes of a generator_step first")
        real_A, real_B = batch["A"], batch["B"]
        real_A = condition(real_A, real_B)
        real = torch.cat([real_A, real_B], 1)
        fake = torch.cat([real_A, self._fake_B], 1)
        return discriminator_losses(self.gan_loss, "D", self.D, real, fake, self.lambda_gp)


def condition(real_A: torch.Tensor, real_B: torch.Tensor) -> torch.Tensor:
    """The input as the discriminator sees it beside an output: at the output's size (an
    enlarger's input is smaller)."""
    if real_A.shape[-2:] == real_B.shape[-2:]:
        return real_A
    return F.interpolate(real_A, size=real_B.shape[-2:], mode="bicubic").clamp(-1, 1)
