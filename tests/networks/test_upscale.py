"""Enlarging generators (model.upscale): their size, their start as bicubic interpolation, both
heads, and tiles of the input that add up to the whole enlarged image."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from gan_style.inference.tiling import translate_tiled
from gan_style.inference.translation import translate_images
from gan_style.networks import build_generator
from gan_style.networks.generators import upscale_of


@pytest.mark.parametrize(
    ("upscale", "head", "long_skip"), [(2, "pixel_shuffle", True), (4, "resize", False)]
)
def test_an_enlarger_starts_as_bicubic_and_learns_from_there(
    upscale: int, head: str, long_skip: bool
) -> None:
    torch.manual_seed(0)
    net = build_generator("resnet_6blocks", ngf=8, global_skip=True, upscale=upscale,
                          upscale_head=head, long_skip=long_skip)  # fmt: skip
    assert upscale_of(net) == upscale
    x = torch.rand(1, 3, 16, 20) * 1.6 - 0.8
    y = net(x)
    bicubic = F.interpolate(x, scale_factor=upscale, mode="bicubic").clamp(-0.999, 0.999)
    assert y.shape == (1, 3, 16 * upscale, 20 * upscale)
    assert torch.allclose(y, bicubic, atol=1e-5)  # the last convolution starts at zero
    y.sub(bicubic.flip(-1)).abs().mean().backward()
    doubling = torch.nn.PixelShuffle if head == "pixel_shuffle" else torch.nn.Upsample
    assert sum(isinstance(m, doubling) for m in net.model) == {2: 1, 4: 2}[upscale]
    assert all(p.grad is not None for p in net.parameters())


@pytest.mark.parametrize("upscale", [1, 2, 4])
def test_an_enhancer_starts_as_its_input_and_keeps_the_input_size_inside(upscale: int) -> None:
    """EDSR in small: a new one returns the input (or its bicubic enlargement), every layer
    gets a gradient, no layer works below the input's size, and it has no norm layers."""
    torch.manual_seed(0)
    net = build_generator("edsr_8blocks", ngf=8, norm="instance", global_skip=True,
                          upscale=upscale)  # fmt: skip
    assert upscale_of(net) == upscale
    x = torch.rand(1, 3, 15, 21) * 1.6 - 0.8  # any size: nothing is strided
    y = net(x)
    source = x if upscale == 1 else F.interpolate(x, scale_factor=upscale, mode="bicubic")
    assert torch.allclose(y, source.clamp(-0.999, 0.999), atol=1e-5)
    y.sub(source.flip(-1)).abs().mean().backward()
    assert all(p.grad is not None for p in net.parameters())
    assert not any(isinstance(m, (torch.nn.InstanceNorm2d, torch.nn.BatchNorm2d))
                   for m in net.modules())  # fmt: skip
    assert all(getattr(m, "stride", (1, 1)) == (1, 1) for m in net.modules())
    with pytest.raises(ValueError, match="has a global skip"):
        build_generator("edsr_8blocks", ngf=8, upscale=upscale)


def test_an_enlarger_without_global_skip_and_the_wrong_factor() -> None:
    net = build_generator("resnet_6blocks", ngf=8, upscale=2)
    assert net(torch.zeros(1, 3, 12, 16)).shape == (1, 3, 24, 32)
    with pytest.raises(ValueError, match="enlarges 2 or 4 times"):
        build_generator("resnet_6blocks", ngf=8, upscale=3)
    with pytest.raises(ValueError, match="needs a resnet generator"):
        build_generator("unet_128", ngf=8, upscale=2)


def test_tiles_of_the_input_add_up_to_the_enlarged_image() -> None:
    """As for any generator (tests/inference/test_translation.py): a norm-free enlarger's tiles
    of 48 px overlapping by 16 px give the whole image's result within 2 grey levels on
    average, away from the borders, at twice the size."""
    torch.manual_seed(0)
    net = build_generator("resnet_6blocks", ngf=8, norm="none", upscale=2).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    rng = np.random.default_rng(0)
    big = (rng.uniform(0, 1, (9, 11, 3)).repeat(10, 0).repeat(10, 1) * 255).astype(np.uint8)
    whole = translate_images(net, [big], 4)[0].astype(int)
    tiled = translate_tiled(net, big, tile=48, overlap=16).astype(int)
    assert whole.shape == tiled.shape == (180, 220, 3)
    assert np.abs(whole - tiled)[16:-16, 16:-16].mean() < 2.0
