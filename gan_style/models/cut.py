"""CUT and FastCUT: contrastive unpaired translation (Park, Efros, Zhang, Zhu, ECCV 2020).

One generator and one discriminator. Instead of cycle consistency, PatchNCE keeps the content:
a patch of the output should be closer to the input patch at the same location than to the
other input patches of the image, in the features of the generator's own encoder.

| paper                     | code                                                      |
|---------------------------|-----------------------------------------------------------|
| G: X -> Y                 | G_AB                                                      |
| D                         | D (judges B images)                                       |
| H_l (MLP head of layer l) | F.heads[l], built for `model.nce_layers`                  |
| L_PatchNCE(G, H, X)       | G/nce: patch_nce_loss(H(G_enc(G(x))), H(G_enc(x)))        |
| L_PatchNCE(G, H, Y)       | G/nce_idt: the same for real_B -> idt_B = G(real_B)      |
| lambda_X, lambda_Y        | loss.lambda_nce                                           |
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from gan_style.config import Config
from gan_style.losses import GANLoss, discriminator_losses, patch_nce_loss
from gan_style.models.contract import Defaults, generator_options
from gan_style.models.image_pool import ImagePool
from gan_style.networks import build_discriminator, build_generator, init_weights


class PatchSampler(nn.Module):
    """Samples the same patch locations of several feature maps and maps each through its
    layer's MLP head (Linear, ReLU, Linear) to an L2-normalised embedding.

    The reference code builds the heads lazily at the first batch; here they are built with
    the model from the feature sizes, so checkpoints hold them from the start and resume exact.
    """

    def __init__(self, channels: list[int], width: int = 256) -> None:
        super().__init__()
        self.heads = nn.ModuleList(
            nn.Sequential(nn.Linear(c, width), nn.ReLU(), nn.Linear(width, width)) for c in channels
        )

    @staticmethod
    def locations(feature: torch.Tensor, patches: int) -> torch.Tensor:
        """`patches` random locations of a feature map (all of them if it has fewer), drawn
        from the global generator, which the run seeds and its checkpoints hold."""
        count = feature.shape[2] * feature.shape[3]
        return torch.randperm(count, device=feature.device)[:patches]

    def forward(
        self, features: list[torch.Tensor], locations: list[torch.Tensor]
    ) -> list[torch.Tensor]:
        out = []
        for head, feature, where in zip(self.heads, features, locations, strict=True):
            flat = feature.flatten(2).transpose(1, 2)[:, where]  # (B, P, C)
            out.append(F.normalize(head(flat), dim=-1))
        return out


class CUT(Defaults, nn.Module):
    """The generator, its PatchNCE heads and the discriminator; the loop owns the optimizers
    (the heads train with the generator)."""

    cycle: ClassVar[bool] = False
    styled: ClassVar[bool] = False

    def __init__(
        self,
        G_AB: nn.Module,
        D: nn.Module,
        F_heads: PatchSampler,
        nce_layers: list[int],
        nce_patches: int = 256,
        gan_mode: str = "lsgan",
        lambda_gan: float = 1.0,
        lambda_nce: float = 1.0,
        nce_identity: bool = True,
        nce_temperature: float = 0.07,
        flip_equivariance: bool = False,
        lambda_gp: float = 10.0,
        pool_size: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.G_AB, self.D, self.F = G_AB, D, F_heads
        self.nce_layers, self.nce_patches = list(nce_layers), nce_patches
        self.gan_loss = GANLoss(gan_mode)
        self.lambda_gan, self.lambda_nce, self.lambda_gp = lambda_gan, lambda_nce, lambda_gp
        self.nce_identity, self.temperature = nce_identity, nce_temperature
        self.flip_equivariance = flip_equivariance
        self.pool_B = ImagePool(pool_size, seed=seed + 2)
        self._fake_B: torch.Tensor | None = None

    @classmethod
    def inference_networks(cls, cfg: Config) -> dict[str, nn.Module]:
        m, ch = cfg.model, cfg.data.channels
        G = build_generator(m.generator, ch, ch, m.ngf, m.norm, m.dropout, **generator_options(m))
        return {"G_AB": init_weights(G, m.init, m.init_gain)}

    @classmethod
    def from_config(cls, cfg: Config) -> CUT:
        m, ch, loss = cfg.model, cfg.data.channels, cfg.loss
        G = cls.inference_networks(cfg)["G_AB"]
        D = init_weights(
            build_discriminator(m.discriminator, ch, m.ndf, m.n_layers_d, m.norm), m.init,
            m.init_gain,
        )  # fmt: skip
        with torch.no_grad():  # the heads' input sizes: the encoder's channels at each layer
            features = G.encode(torch.zeros(1, ch, 64, 64), m.nce_layers)
        heads = init_weights(PatchSampler([f.shape[1] for f in features], m.nce_mlp), m.init,
                             m.init_gain)  # fmt: skip
        return cls(
            G, D, heads, m.nce_layers, m.nce_patches, gan_mode=loss.gan_mode,
            lambda_gan=loss.lambda_gan, lambda_nce=loss.lambda_nce,
            nce_identity=loss.nce_identity, nce_temperature=loss.nce_temperature,
            flip_equivariance=loss.flip_equivariance, lambda_gp=loss.lambda_gp,
            pool_size=cfg.train.pool_size, seed=cfg.train.seed,
        )  # fmt: skip

    @property
    def named_generators(self) -> dict[str, nn.Module]:
        return {"G_AB": self.G_AB}

    @property
    def generators(self) -> list[nn.Module]:
        return [self.G_AB, self.F]

    @property
    def discriminators(self) -> list[nn.Module]:
        return [self.D]

    def translate(self, real_A: torch.Tensor, real_B: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"fake_B": self.G_AB(real_A), "idt_B": self.G_AB(real_B)}

    def sample_columns(self, real_A: torch.Tensor, real_B: torch.Tensor) -> dict[str, torch.Tensor]:
        """real_A | fake_B | real_B | idt_B (G applied to a B image: ideally unchanged)."""
        out = self.translate(real_A, real_B)
        return {"real_A": real_A, "fake_B": out["fake_B"], "real_B": real_B,
                "idt_B": out["idt_B"]}  # fmt: skip

    def nce(
        self, source: torch.Tensor, output: torch.Tensor, flipped: bool = False
    ) -> torch.Tensor:
        """PatchNCE between an input and its translation, averaged over `nce_layers`; with
        `flipped` the output was made from the flipped input, so its features are flipped back."""
        queries = self.G_AB.encode(output, self.nce_layers)
        if flipped:
            queries = [torch.flip(q, [3]) for q in queries]
        keys = self.G_AB.encode(source, self.nce_layers)
        where = [PatchSampler.locations(k, self.nce_patches) for k in keys]
        total = sum(
            patch_nce_loss(q, k, self.temperature)
            for q, k in zip(self.F(queries, where), self.F(keys, where), strict=True)
        )
        return total / len(self.nce_layers)

    def generator_step(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        real_A, real_B = batch["A"], batch["B"]
        # FastCUT's flip equivariance: translate a mirrored input, compare it mirrored back.
        flipped = self.flip_equivariance and bool(torch.rand(()) < 0.5)
        fake_B = self.G_AB(torch.flip(real_A, [3]) if flipped else real_A)
        losses = {
            "G/gan": self.gan_loss(self.D(fake_B), True, for_discriminator=False) * self.lambda_gan,
            "G/nce": self.nce(real_A, fake_B, flipped) * self.lambda_nce,
        }
        if self.nce_identity:
            losses["G/nce_idt"] = self.nce(real_B, self.G_AB(real_B)) * self.lambda_nce
            losses["G/total"] = losses["G/gan"] + 0.5 * (losses["G/nce"] + losses["G/nce_idt"])
        else:
            losses["G/total"] = losses["G/gan"] + losses["G/nce"]
        self._fake_B = fake_B.detach()
        return losses

    def discriminator_step(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        if self._fake_B is None:
            raise RuntimeError("discriminator_step needs the fakes of a generator_step first")
        fake_B = self.pool_B.query(self._fake_B)
        return discriminator_losses(self.gan_loss, "D", self.D, batch["B"], fake_B, self.lambda_gp)

    def pools_state_dict(self) -> dict:
        return {"B": self.pool_B.state_dict()}

    def load_pools_state_dict(self, state: dict, device: torch.device | str = "cpu") -> None:
        self.pool_B.load_state_dict(state["B"], device)


class FastCUT(CUT):
    """CUT with the paper's FastCUT settings: PatchNCE weight 10, no identity term, flip
    equivariance. They come with the model name and are recorded in the run's config."""

    @classmethod
    def prepare_config(cls, cfg: Config) -> Config:
        loss = dataclasses.replace(
            cfg.loss, lambda_nce=10.0, nce_identity=False, flip_equivariance=True
        )
        return dataclasses.replace(cfg, loss=loss)
