"""CycleGAN: unpaired translation with cycle consistency (Zhu et al. 2017).

| paper            | code                 |
|------------------|----------------------|
| X, Y             | domain A, domain B   |
| G: X -> Y        | G_AB                 |
| F: Y -> X        | G_BA                 |
| D_X, D_Y         | D_A, D_B             |
| F(G(x))          | rec_A                |
| G(y) ~ y         | idt_B                |
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import torch
from torch import nn

from gan_style.config import Config
from gan_style.losses import GANLoss, discriminator_losses, gaussian_blur, l1_loss
from gan_style.models.contract import Defaults, generator_options
from gan_style.models.image_pool import ImagePool
from gan_style.models.perceptual import WithPerceptual, perceptual_network
from gan_style.networks import build_discriminator, build_generator, init_weights

Generate = Callable[[torch.Tensor], torch.Tensor]  # a generator, with any condition bound


def cycle_losses(
    real_A: torch.Tensor,
    real_B: torch.Tensor,
    rec_A: torch.Tensor,
    rec_B: torch.Tensor,
    lambda_cycle: float,
    blur: float = 0.0,
) -> dict[str, torch.Tensor]:
    """Cycle consistency, F(G(x)) ~ x and G(F(y)) ~ y (Zhu et al. 2017, eq. 2). With `blur`
    (px) both sides are compared after a Gaussian blur: texture finer than that need not come
    back, so a translation that flattens it (a painting) is not pushed to hide it in its
    output for the way back."""
    real_A, real_B, rec_A, rec_B = (gaussian_blur(x, blur) for x in (real_A, real_B, rec_A, rec_B))
    return {
        "G/cycle_A": l1_loss(rec_A, real_A) * lambda_cycle,
        "G/cycle_B": l1_loss(rec_B, real_B) * lambda_cycle,
    }


def identity_losses(
    G_AB: Generate,
    G_BA: Generate,
    real_A: torch.Tensor,
    real_B: torch.Tensor,
    lambda_identity: float,
    lambda_cycle: float,
) -> dict[str, torch.Tensor]:
    """Identity, G(y) ~ y and F(x) ~ x (eq. 6); its weight is relative to the cycle weight, as
    in the reference code. Off (no terms) at weight 0."""
    if lambda_identity <= 0:
        return {}
    weight = lambda_identity * lambda_cycle
    return {
        "G/idt_A": l1_loss(G_BA(real_A), real_A) * weight,
        "G/idt_B": l1_loss(G_AB(real_B), real_B) * weight,
    }


class CycleGAN(WithPerceptual, Defaults):
    """Holds the four networks and the two image pools; the training loop owns the optimizers.

    `generator_step` computes the generators' losses and keeps the fakes that
    `discriminator_step` then judges, so each step runs the generators once.
    """

    cycle: ClassVar[bool] = True
    styled: ClassVar[bool] = False

    def __init__(
        self,
        G_AB: nn.Module,
        G_BA: nn.Module,
        D_A: nn.Module,
        D_B: nn.Module,
        gan_mode: str = "lsgan",
        lambda_cycle: float = 10.0,
        lambda_identity: float = 0.5,
        lambda_gp: float = 10.0,
        pool_size: int = 50,
        seed: int = 0,
        lambda_perceptual: float = 0.0,
        vgg: nn.Module | None = None,
        cycle_blur: float = 0.0,
    ) -> None:
        super().__init__()
        self.G_AB, self.G_BA, self.D_A, self.D_B = G_AB, G_BA, D_A, D_B
        self.gan_loss = GANLoss(gan_mode)
        self.lambda_cycle, self.cycle_blur = lambda_cycle, cycle_blur
        self.lambda_identity = lambda_identity
        self.lambda_gp = lambda_gp
        self.pool_A = ImagePool(pool_size, seed=seed + 1)
        self.pool_B = ImagePool(pool_size, seed=seed + 2)
        self._fakes: dict[str, torch.Tensor] = {}
        self.attach_vgg(vgg, lambda_perceptual)

    @classmethod
    def inference_networks(cls, cfg: Config) -> dict[str, nn.Module]:
        m, ch = cfg.model, cfg.data.channels

        def generator() -> nn.Module:
            net = build_generator(
                m.generator, ch, ch, m.ngf, m.norm, m.dropout, **generator_options(m)
            )
            return init_weights(net, m.init, m.init_gain)

        return {name: generator() for name in ("G_AB", "G_BA")}

    @classmethod
    def from_config(cls, cfg: Config) -> CycleGAN:
        m, ch = cfg.model, cfg.data.channels

        def discriminator() -> nn.Module:
            net = build_discriminator(m.discriminator, ch, m.ndf, m.n_layers_d, m.norm)
            return init_weights(net, m.init, m.init_gain)

        generators = cls.inference_networks(cfg)
        return cls(
            generators["G_AB"], generators["G_BA"], discriminator(), discriminator(),
            gan_mode=cfg.loss.gan_mode,
            lambda_cycle=cfg.loss.lambda_cycle,
            lambda_identity=cfg.loss.lambda_identity,
            lambda_gp=cfg.loss.lambda_gp,
            pool_size=cfg.train.pool_size,
            seed=cfg.train.seed,
            lambda_perceptual=cfg.loss.lambda_perceptual,
            cycle_blur=cfg.loss.cycle_blur,
            vgg=perceptual_network(cfg),
        )  # fmt: skip

    @property
    def named_generators(self) -> dict[str, nn.Module]:
        return {"G_AB": self.G_AB, "G_BA": self.G_BA}

    @property
    def generators(self) -> list[nn.Module]:
        return [self.G_AB, self.G_BA]

    @property
    def discriminators(self) -> list[nn.Module]:
        return [self.D_A, self.D_B]

    def translate(self, real_A: torch.Tensor, real_B: torch.Tensor) -> dict[str, torch.Tensor]:
        """Both translations and their reconstructions, for samples and evaluation."""
        fake_B, fake_A = self.G_AB(real_A), self.G_BA(real_B)
        return {
            "fake_B": fake_B,
            "rec_A": self.G_BA(fake_B),
            "fake_A": fake_A,
            "rec_B": self.G_AB(fake_A),
        }

    def sample_columns(self, real_A: torch.Tensor, real_B: torch.Tensor) -> dict[str, torch.Tensor]:
        """Sample-grid columns, in order: real_A | fake_B | rec_A | real_B | fake_A | rec_B."""
        out = self.translate(real_A, real_B)
        return {"real_A": real_A, "fake_B": out["fake_B"], "rec_A": out["rec_A"],
                "real_B": real_B, "fake_A": out["fake_A"], "rec_B": out["rec_B"]}  # fmt: skip

    def generator_step(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        real_A, real_B = batch["A"], batch["B"]
        out = self.translate(real_A, real_B)
        losses = {
            "G/gan_B": self.gan_loss(self.D_B(out["fake_B"]), True, for_discriminator=False),
            "G/gan_A": self.gan_loss(self.D_A(out["fake_A"]), True, for_discriminator=False),
        }
        losses |= cycle_losses(
            real_A, real_B, out["rec_A"], out["rec_B"], self.lambda_cycle, self.cycle_blur
        )
        if self.lambda_perceptual > 0:
            losses["G/perceptual_A"] = self.perceptual(out["fake_B"], real_A)
            losses["G/perceptual_B"] = self.perceptual(out["fake_A"], real_B)
        losses |= identity_losses(
            self.G_AB, self.G_BA, real_A, real_B, self.lambda_identity, self.lambda_cycle
        )
        losses["G/total"] = sum(losses.values())
        self._fakes = {"A": out["fake_A"].detach(), "B": out["fake_B"].detach()}
        return losses

    def discriminator_step(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        if not self._fakes:
            raise RuntimeError("discriminator_step needs the fakes of a generator_step first")
        fake_A = self.pool_A.query(self._fakes["A"])
        fake_B = self.pool_B.query(self._fakes["B"])
        gan, gp = self.gan_loss, self.lambda_gp
        losses = discriminator_losses(gan, "D_A", self.D_A, batch["A"], fake_A, gp)
        losses |= discriminator_losses(gan, "D_B", self.D_B, batch["B"], fake_B, gp)
        losses["D/total"] = losses["D_A/total"] + losses["D_B/total"]
        return losses

    def pools_state_dict(self) -> dict:
        return {"A": self.pool_A.state_dict(), "B": self.pool_B.state_dict()}

    def load_pools_state_dict(self, state: dict, device: torch.device | str = "cpu") -> None:
        self.pool_A.load_state_dict(state["A"], device)
        self.pool_B.load_state_dict(state["B"], device)
