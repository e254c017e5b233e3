"""Colorization: pix2pix in CIE Lab (the reference code's `colorization` model).

| idea                       | code                                            |
|----------------------------|-------------------------------------------------|
| x: the lightness L         | real_A (1 channel, L / 50 - 1)                  |
| y: the colour ab           | real_B (2 channels, ab / 110)                   |
| G(x)                       | G_AB(real_A) = fake_B, the predicted ab         |
| D(x, y)                    | D(cat(L, ab)): a conditional PatchGAN           |

Any colour photo is a training pair (its L and its ab); at translation time `ColorizeRGB`
takes RGB images (a grayscale one has only L) and returns them coloured, in RGB.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from gan_style.config import Config
from gan_style.data.lab import lab_to_rgb, rgb_to_lab
from gan_style.models.contract import generator_options
from gan_style.models.pix2pix import Pix2Pix
from gan_style.networks import build_discriminator, build_generator, init_weights


def to_rgb(lightness: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
    """N x 1 x H x W L and N x 2 x H x W ab (model scale) -> N x 3 x H x W RGB in [-1, 1]."""
    ls = lightness.detach().float().permute(0, 2, 3, 1).cpu().numpy()
    abs_ = ab.detach().float().permute(0, 2, 3, 1).cpu().numpy()
    rgb = np.stack([lab_to_rgb(light, a) for light, a in zip(ls, abs_, strict=True)])
    return torch.from_numpy(rgb).permute(0, 3, 1, 2).to(lightness.device, torch.float32) * 2 - 1


class ColorizeRGB(nn.Module):
    """RGB images in [-1, 1] -> coloured RGB images in [-1, 1], through the L -> ab network
    (`network`, which is what the checkpoint holds and what export writes). Lab conversions
    are scikit-image's, on the CPU."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, x: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor:
        rgb = ((x.detach().float() + 1) / 2).clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy()
        lightness = np.stack([rgb_to_lab(image)[0] for image in rgb])
        ls = torch.from_numpy(lightness).permute(0, 3, 1, 2).to(x.device, x.dtype)
        return to_rgb(ls, self.network(ls)).to(x.dtype)

    image_channels = 3  # what it takes, where its network takes L alone

    def around(self, x: np.ndarray, network: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """`forward` on N x 3 x H x W float32 arrays, with `network` (the L -> ab network on
        arrays) in the middle: for engines that run the network without PyTorch."""
        rgb = ((x + 1) / 2).clip(0, 1).transpose(0, 2, 3, 1)
        lightness = np.stack([rgb_to_lab(image)[0] for image in rgb]).astype(np.float32)
        ab = network(np.ascontiguousarray(lightness.transpose(0, 3, 1, 2)))
        pairs = zip(lightness, ab.transpose(0, 2, 3, 1), strict=True)
        coloured = np.stack([lab_to_rgb(light, a) for light, a in pairs])
        return coloured.transpose(0, 3, 1, 2).astype(np.float32) * 2 - 1


class Colorization(Pix2Pix):
    """A conditional GAN from L to ab, with pix2pix's losses (GAN + lambda_l1 x L1)."""

    cycle: ClassVar[bool] = False
    styled: ClassVar[bool] = False

    @classmethod
    def inference_networks(cls, cfg: Config) -> dict[str, nn.Module]:
        m = cfg.model
        G = build_generator(m.generator, 1, 2, m.ngf, m.norm, m.dropout, **generator_options(m))
        return {"G_AB": init_weights(G, m.init, m.init_gain)}

    @classmethod
    def image_network(cls, network: nn.Module) -> nn.Module:
        return ColorizeRGB(network)

    @classmethod
    def from_config(cls, cfg: Config) -> Colorization:
        m = cfg.model
        G = cls.inference_networks(cfg)["G_AB"]
        D = build_discriminator(m.discriminator, 3, m.ndf, m.n_layers_d, m.norm)  # L + ab
        D = init_weights(D, m.init, m.init_gain)
        return cls(G, D, cfg.loss.gan_mode, cfg.loss.lambda_l1, cfg.loss.lambda_gp)

    def translate(self, real_A: torch.Tensor, real_B: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"fake_B": self.G_AB(real_A)}

    def sample_columns(self, real_A: torch.Tensor, real_B: torch.Tensor) -> dict[str, torch.Tensor]:
        """gray input | coloured output | original, in RGB."""
        gray = to_rgb(real_A, torch.zeros_like(real_B))
        return {"gray": gray, "colourised": to_rgb(real_A, self.G_AB(real_A)),
                "original": to_rgb(real_A, real_B)}  # fmt: skip
