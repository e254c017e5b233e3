"""Small building blocks shared by the generators and discriminators."""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from gan_style.networks.nnpack import in_graph_capture

NormFactory = Callable[[int], nn.Module]


class InstanceNorm2d(nn.InstanceNorm2d):
    """Instance norm that, in inference on CPU, runs as group norm with one channel per group:
    the same statistics, to rounding (5e-7), from PyTorch's much faster group-norm kernel
    (instance norm had been a tenth of the paper generator's forward pass). Training keeps
    PyTorch's own, so runs stay bit-identical to earlier ones (it gained nothing there). CUDA,
    running statistics, autocast and graph capture (ONNX export, tracing, compiling) keep
    PyTorch's own too. Same parameters, same state_dict."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if (
            x.device.type == "cpu"
            and not torch.is_grad_enabled()
            and x.dim() == 4
            and not self.track_running_stats
            and not torch.is_autocast_enabled("cpu")
            and not in_graph_capture()
        ):
            return F.group_norm(x, x.shape[1], self.weight, self.bias, self.eps)
        return super().forward(x)


def norm_factory(norm: str) -> NormFactory:
    """Return a constructor `f(channels) -> nn.Module` for a norm name.

    Instance norm has no affine parameters and no running stats, as in the reference CycleGAN
    code, so published weights (which hold none) load unchanged.
    """
    factories: dict[str, NormFactory] = {
        "instance": functools.partial(InstanceNorm2d, affine=False, track_running_stats=False),
        "batch": functools.partial(nn.BatchNorm2d, affine=True, track_running_stats=True),
        "none": lambda _channels: nn.Identity(),
    }
    if norm not in factories:
        raise ValueError(f"unknown norm '{norm}'; choose one of {', '.join(factories)}")
    return factories[norm]


def conv_bias(norm: str) -> bool:
    """Batch norm has its own shift, so the conv before it needs no bias (reference layout)."""
    return norm != "batch"


class AdaIN(nn.Module):
    """Adaptive instance norm (Huang & Belongie 2017): normalise, then scale and shift by
    amounts computed from a style code, so one network renders many styles."""

    def __init__(self, channels: int, style_dim: int) -> None:
        super().__init__()
        self.norm = InstanceNorm2d(channels, affine=False)
        self.affine = nn.Linear(style_dim, 2 * channels)

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        # Scale 1 + gamma: small initial weights start close to plain instance norm.
        gamma, beta = self.affine(style).unsqueeze(-1).unsqueeze(-1).chunk(2, dim=1)
        return self.norm(x) * (1 + gamma) + beta


class ResnetBlock(nn.Module):
    """Two 3x3 convs with reflect padding and a skip connection (He et al. 2016).

    With `style_dim` > 0 its norms are AdaIN layers driven by the `style` code passed to
    `forward`; the conv layout `conv_block.N` stays that of the reference code.
    """

    def __init__(self, dim: int, norm: str, dropout: bool, style_dim: int = 0) -> None:
        super().__init__()
        bias = conv_bias(norm)
        make_norm = (lambda ch: AdaIN(ch, style_dim)) if style_dim else norm_factory(norm)
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
        y = x
        for layer in self.conv_block:
            y = layer(y, style) if isinstance(layer, AdaIN) else layer(y)
        return x + y


def _blur_kernel(channels: int) -> torch.Tensor:
    """The [1, 2, 1] binomial filter in 2-D, normalised, one copy per channel."""
    row = torch.tensor([1.0, 2.0, 1.0])
    kernel = row[:, None] * row[None, :]
    return (kernel / kernel.sum()).expand(channels, 1, 3, 3).clone()


class BlurDownsample(nn.Module):
    """Blur, then keep every second pixel: anti-aliased downsampling (Zhang 2019, as CUT's
    generator does it), so a small shift of the input does not alias into the features."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.register_buffer("kernel", _blur_kernel(channels), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.pad(x, (1, 1, 1, 1), mode="reflect")
        return nn.functional.conv2d(x, self.kernel.to(x.dtype), stride=2, groups=x.shape[1])


class BlurUpsample(nn.Module):
    """Double the size, then blur: anti-aliased upsampling, against checkerboard artefacts."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.register_buffer("kernel", _blur_kernel(channels), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.interpolate(x, scale_factor=2, mode="nearest")
        x = nn.functional.pad(x, (1, 1, 1, 1), mode="reflect")
        return nn.functional.conv2d(x, self.kernel.to(x.dtype), groups=x.shape[1])


class SkipFilter(nn.Module):
    """The global skip's own learned change of the input: a colour matrix with offsets, then a
    per-channel KxK filter whose weights sum to 1, both starting as the identity.

    With a plain skip the generator can only smooth or tint through its residual, which works
    at a quarter of the resolution: on the demo it kept the photo's texture. Here 3x4 + 3x25
    numbers can tint, blur or sharpen the whole image, and the residual adds what varies from
    place to place. The parameters are stored divided by `LR_SCALE` (as StyleGAN's equalised
    learning rate), so Adam moves them `LR_SCALE` times faster than the network's weights.
    """

    LR_SCALE = 10.0
    MIN_SUM = 0.1  # the filter's raw sum is kept above this before normalising it

    def __init__(self, channels: int, kernel_size: int = 5) -> None:
        super().__init__()
        self.colour = nn.Parameter(torch.zeros(channels, channels + 1))  # matrix | offset
        self.filter = nn.Parameter(torch.zeros(channels, 1, kernel_size, kernel_size))
        identity = torch.zeros(1, 1, kernel_size, kernel_size)
        identity[..., kernel_size // 2, kernel_size // 2] = 1.0
        self.register_buffer("identity", identity, persistent=False)

    def reset_after_init(self) -> None:
        nn.init.zeros_(self.colour)
        nn.init.zeros_(self.filter)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels = x.shape[1]
        change = self.LR_SCALE * self.colour
        matrix = torch.eye(channels, device=x.device, dtype=x.dtype) + change[:, :channels]
        x = nn.functional.conv2d(x, matrix[:, :, None, None], change[:, channels])
        kernel = self.identity + self.LR_SCALE * self.filter
        kernel = kernel / kernel.sum(dim=(2, 3), keepdim=True).clamp_min(self.MIN_SUM)
        pad = kernel.shape[-1] // 2
        mode = "reflect" if min(x.shape[-2:]) > pad else "replicate"
        x = nn.functional.pad(x, (pad, pad, pad, pad), mode=mode)
        return nn.functional.conv2d(x, kernel, groups=channels)
