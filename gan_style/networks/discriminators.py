"""Discriminators: PatchGAN (Isola et al. 2017) and the 1x1 PixelGAN."""

from __future__ import annotations

import torch
from torch import nn

from gan_style.networks.blocks import conv_bias, norm_factory


class NLayerDiscriminator(nn.Module):
    """PatchGAN: `n_layers` stride-2 4x4 convs; n_layers=3 sees 70x70 patches."""

    def __init__(
        self, in_channels: int = 3, ndf: int = 64, n_layers: int = 3, norm: str = "instance"
    ) -> None:
        super().__init__()
        make_norm, bias = norm_factory(norm), conv_bias(norm)
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, ndf, kernel_size=4, stride=2, padding=1),
            nn.LeakyReLU(0.2, True),
        ]
        mult = 1
        for n in range(1, n_layers + 1):
            prev, mult = mult, min(2**n, 8)
            stride = 2 if n < n_layers else 1
            layers += [
                nn.Conv2d(
                    ndf * prev, ndf * mult, kernel_size=4, stride=stride, padding=1, bias=bias
                ),
                make_norm(ndf * mult),
                nn.LeakyReLU(0.2, True),
            ]
        layers.append(nn.Conv2d(ndf * mult, 1, kernel_size=4, stride=1, padding=1))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class PixelDiscriminator(nn.Module):
    """1x1 PatchGAN: judges each pixel's colour alone."""

    def __init__(self, in_channels: int = 3, ndf: int = 64, norm: str = "instance") -> None:
        super().__init__()
        make_norm, bias = norm_factory(norm), conv_bias(norm)
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, ndf, kernel_size=1),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, ndf * 2, kernel_size=1, bias=bias),
            make_norm(ndf * 2),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 2, 1, kernel_size=1, bias=bias),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class MultiHeadDiscriminator(nn.Module):
    """A PatchGAN trunk with one output head per style: each style is judged against its own
    paintings while the trunk's texture features are shared."""

    def __init__(self, n_styles: int, in_channels: int = 3, ndf: int = 64, n_layers: int = 3,
                 norm: str = "instance") -> None:  # fmt: skip
        super().__init__()
        trunk = NLayerDiscriminator(in_channels, ndf, n_layers, norm)
        last = trunk.model[-1]
        self.trunk = nn.Sequential(*list(trunk.model.children())[:-1])
        self.heads = nn.Conv2d(last.in_channels, n_styles, kernel_size=4, stride=1, padding=1)

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """`style`: N style indices; returns each image's score map from its style's head."""
        scores = self.heads(self.trunk(x))
        index = style.view(-1, 1, 1, 1).expand(-1, 1, *scores.shape[-2:])
        return scores.gather(1, index)


DISCRIMINATORS = {
    "basic": lambda n_layers, **kw: NLayerDiscriminator(n_layers=3, **kw),
    "n_layers": lambda n_layers, **kw: NLayerDiscriminator(n_layers=n_layers, **kw),
    "pixel": lambda n_layers, **kw: PixelDiscriminator(**kw),
}


def build_discriminator(
    name: str, in_channels: int = 3, ndf: int = 64, n_layers: int = 3, norm: str = "instance"
) -> nn.Module:
    if name not in DISCRIMINATORS:
        raise ValueError(
            f"unknown discriminator '{name}'; choose one of {', '.join(DISCRIMINATORS)}"
        )
    return DISCRIMINATORS[name](n_layers, in_channels=in_channels, ndf=ndf, norm=norm)
