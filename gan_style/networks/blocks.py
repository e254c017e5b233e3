"""Small building blocks shared by the generators and discriminators."""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
from torch import nn

NormFactory = Callable[[int], nn.Module]


def norm_factory(norm: str) -> NormFactory:
    """Return a constructor `f(channels) -> nn.Module` for a norm name.

    Instance norm has no affine parameters and no running stats, as in the reference CycleGAN
    code, so published weights (which hold none) load unchanged.
    """
    factories: dict[str, NormFactory] = {
        "instance": functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=False),
        "batch": functools.partial(nn.BatchNorm2d, affine=True, track_running_stats=True),
        "none": lambda _channels: nn.Identity(),
    }
    if norm not in factories:
        raise ValueError(f"unknown norm '{norm}'; choose one of {', '.join(factories)}")
    return factories[norm]


def conv_bias(norm: str) -> bool:
    """Batch norm has its own shift, so the conv before it needs no bias (reference layout)."""
    return norm != "batch"


class ResnetBlock(nn.Module):
    """Two 3x3 convs with reflect padding and a skip connection (He et al. 2016).

    `forward` takes an optional `style` code so that a conditional generator can modulate the
    block later without changing the parameter layout `conv_block.N` of the reference code.
    """

    def __init__(self, dim: int, norm: str, dropout: bool) -> None:
        super().__init__()
        make_norm, bias = norm_factory(norm), conv_bias(norm)
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, kernel_size=3, bias=bias),
            make_norm(dim),
            nn.ReLU(True),
        ]
        if dropout:
            layers.append(nn.Dropout(0.5))
        layers += [
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, kernel_size=3, bias=bias),
            make_norm(dim),
        ]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor:
        return x + self.conv_block(x)
