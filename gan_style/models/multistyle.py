"""One CycleGAN for many painters: style-conditioned generators (AdaIN) and a style encoder.

| idea                                  | code                                    |
|---------------------------------------|-----------------------------------------|
| photo -> painting in style s          | G_AB(real_A, code_s)                    |
| painting of style s -> photo          | G_BA(real_B, code_s)                    |
| learned style codes                   | style_embedding (one row per style)     |
| example painting -> style code        | style_encoder                           |
| D_Y, one per style                    | D_B: a shared PatchGAN trunk, one head per style |
| D_X                                   | D_A                                     |
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from gan_style.config import Config
from gan_style.data.folders import style_names
from gan_style.losses import GANLoss, discriminator_losses
from gan_style.models.contract import Defaults, generator_options
from gan_style.models.cycle_gan import cycle_losses, identity_losses
from gan_style.models.image_pool import ImagePool
from gan_style.networks import build_discriminator, build_generator, init_weights
from gan_style.networks.discriminators import MultiHeadDiscriminator
from gan_style.networks.generators import StyleEncoder


class MultiStyleCycleGAN(Defaults, nn.Module):
    """CycleGAN losses, with the painting side's style as a condition of both generators."""

    cycle: ClassVar[bool] = True
    styled: ClassVar[bool] = True

    def __init__(
        self,
        G_AB: nn.Module,
        G_BA: nn.Module,
        D_A: nn.Module,
        D_B: MultiHeadDiscriminator,
        style_embedding: nn.Embedding,
        style_encoder: nn.Module,
        styles: list[str],
        gan_mode: str = "lsgan",
        lambda_cycle: float = 10.0,
        lambda_identity: float = 0.5,
        lambda_gp: float = 10.0,
        lambda_style_encoder: float = 1.0,
        pool_size: int = 50,
        seed: int = 0,
        cycle_blur: float = 0.0,
    ) -> None:
        super().__init__()
        self.G_AB, self.G_BA, self.D_A, self.D_B = G_AB, G_BA, D_A, D_B
        self.cycle_blur = cycle_blur
        self.style_embedding, self.style_encoder = style_embedding, style_encoder
        self.styles = list(styles)
        self.gan_loss = GANLoss(gan_mode)
        self.lambda_cycle, self.lambda_identity = lambda_cycle, lambda_identity
        self.lambda_gp, self.lambda_style_encoder = lambda_gp, lambda_style_encoder
        # Fakes for D_A go through a history pool; D_B judges each fake with its own style's
        # head, so its fakes are used fresh (a pool would mix styles).
        self.pool_A = ImagePool(pool_size, seed=seed + 1)
        self._fakes: dict[str, torch.Tensor] = {}

    @classmethod
    def prepare_config(cls, cfg: Config) -> Config:
        """`data.styles: []` means every style folder: the run records which ones, in order."""
        if cfg.data.styles:
            return cfg
        return dataclasses.replace(
            cfg, data=dataclasses.replace(cfg.data, styles=style_names(cfg.data))
        )

    @classmethod
    def inference_networks(cls, cfg: Config) -> dict[str, nn.Module]:
        m, ch = cfg.model, cfg.data.channels
        styles = cfg.data.styles or style_names(cfg.data)

        def generator() -> nn.Module:
            net = build_generator(m.generator, ch, ch, m.ngf, m.norm, m.dropout, m.style_dim,
                                  **generator_options(m))  # fmt: skip
            return init_weights(net, m.init, m.init_gain)

        return {
            "G_AB": generator(),
            "G_BA": generator(),
            "style_embedding": nn.Embedding(len(styles), m.style_dim),
            "style_encoder": StyleEncoder(ch, m.style_dim),
        }

    @classmethod
    def from_config(cls, cfg: Config) -> MultiStyleCycleGAN:
        m, ch = cfg.model, cfg.data.channels
        styles = cfg.data.styles or style_names(cfg.data)
        nets = cls.inference_networks(cfg)
        D_A = build_discriminator(m.discriminator, ch, m.ndf, m.n_layers_d, m.norm)
        n_layers = 3 if m.discriminator == "basic" else m.n_layers_d
        D_B = MultiHeadDiscriminator(len(styles), ch, m.ndf, n_layers, m.norm)
        D_A, D_B = (init_weights(n, m.init, m.init_gain) for n in (D_A, D_B))
        return cls(
            nets["G_AB"], nets["G_BA"], D_A, D_B, nets["style_embedding"], nets["style_encoder"],
            styles=styles, gan_mode=cfg.loss.gan_mode, lambda_cycle=cfg.loss.lambda_cycle,
            lambda_identity=cfg.loss.lambda_identity, lambda_gp=cfg.loss.lambda_gp,
            lambda_style_encoder=cfg.loss.lambda_style_encoder, pool_size=cfg.train.pool_size,
            seed=cfg.train.seed, cycle_blur=cfg.loss.cycle_blur,
        )  # fmt: skip

    @property
    def named_generators(self) -> dict[str, nn.Module]:
        return {"G_AB": self.G_AB, "G_BA": self.G_BA, "style_embedding": self.style_embedding,
                "style_encoder": self.style_encoder}  # fmt: skip

    @property
    def generators(self) -> list[nn.Module]:
        return list(self.named_generators.values())

    @property
    def discriminators(self) -> list[nn.Module]:
        return [self.D_A, self.D_B]

    def code(self, style: torch.Tensor) -> torch.Tensor:
        return self.style_embedding(style)

    def translate(
        self, real_A: torch.Tensor, real_B: torch.Tensor, style: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        """Both translations and reconstructions in the styles `style` (indices; default the
        first style)."""
        if style is None:
            style = torch.zeros(len(real_A), dtype=torch.long, device=real_A.device)
        code = self.code(style)
        fake_B, fake_A = self.G_AB(real_A, code), self.G_BA(real_B, code)
        return {
            "fake_B": fake_B,
            "rec_A": self.G_BA(fake_B, code),
            "fake_A": fake_A,
            "rec_B": self.G_AB(fake_A, code),
        }

    def sample_columns(self, real_A: torch.Tensor, real_B: torch.Tensor) -> dict[str, torch.Tensor]:
        """real_A, then its translation into every style."""
        columns = {"real_A": real_A}
        for i, name in enumerate(self.styles):
            index = torch.full((len(real_A),), i, dtype=torch.long, device=real_A.device)
            columns[f"fake_B:{name}"] = self.G_AB(real_A, self.code(index))
        return columns

    def generator_step(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        real_A, real_B, style = batch["A"], batch["B"], batch["style"]
        code = self.code(style)
        out = self.translate(real_A, real_B, style)
        losses = {
            "G/gan_B": self.gan_loss(self.D_B(out["fake_B"], style), True, for_discriminator=False),
            "G/gan_A": self.gan_loss(self.D_A(out["fake_A"]), True, for_discriminator=False),
        }
        losses |= cycle_losses(
            real_A, real_B, out["rec_A"], out["rec_B"], self.lambda_cycle, self.cycle_blur
        )
        # The encoder learns to find a painting's style code from the painting alone.
        losses["G/style_encoder"] = (
            F.mse_loss(self.style_encoder(real_B), code.detach()) * self.lambda_style_encoder
        )
        losses |= identity_losses(
            lambda x: self.G_AB(x, code), lambda x: self.G_BA(x, code), real_A, real_B,
            self.lambda_identity, self.lambda_cycle,
        )  # fmt: skip
        losses["G/total"] = sum(losses.values())
        self._fakes = {"A": out["fake_A"].detach(), "B": out["fake_B"].detach(), "style": style}
        return losses

    def discriminator_step(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        if not self._fakes:
            raise RuntimeError("discriminator_step needs the fakes of a generator_step first")
        style = self._fakes["style"]
        fake_A = self.pool_A.query(self._fakes["A"])
        gan, gp = self.gan_loss, self.lambda_gp
        losses = discriminator_losses(gan, "D_A", self.D_A, batch["A"], fake_A, gp)

        def D_B(x: torch.Tensor) -> torch.Tensor:  # the critic of this batch's styles
            return self.D_B(x, style)

        losses |= discriminator_losses(gan, "D_B", D_B, batch["B"], self._fakes["B"], gp)
        losses["D/total"] = losses["D_A/total"] + losses["D_B/total"]
        return losses

    def pools_state_dict(self) -> dict:
        return {"A": self.pool_A.state_dict()}

    def load_pools_state_dict(self, state: dict, device: torch.device | str = "cpu") -> None:
        self.pool_A.load_state_dict(state["A"], device)
