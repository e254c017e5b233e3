"""VGG-19 feature extractor with named layers (Simonyan & Zisserman 2015)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from gan_style.errors import CheckpointError, ConfigError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
BLOCKS = (2, 2, 4, 4, 4)  # convolutions per block of VGG-19


def layer_names() -> list[str]:
    """Names of torchvision's vgg19().features, in order: conv1_1, relu1_1, ..., pool5."""
    names = []
    for block, convs in enumerate(BLOCKS, start=1):
        for i in range(1, convs + 1):
            names += [f"conv{block}_{i}", f"relu{block}_{i}"]
        names.append(f"pool{block}")
    return names


def _vgg19_state(weights: str | Path | None) -> dict | None:
    if weights == "random":
        return None
    if weights is not None:
        path = Path(weights)
        if not path.is_file():
            raise CheckpointError(f"VGG-19 weights file {path} not found")
        try:
            return torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:
            raise CheckpointError(
                f"{path} is not a readable weights file ({type(e).__name__})"
            ) from None
    from torchvision.models import VGG19_Weights

    try:
        return VGG19_Weights.IMAGENET1K_V1.get_state_dict(progress=True)
    except Exception as e:  # offline: URLError and friends
        raise CheckpointError(
            f"no VGG-19 weights: the download failed ({type(e).__name__}); pass --vgg-weights PATH "
            f"(torchvision's {VGG19_Weights.IMAGENET1K_V1.url})"
        ) from None


class VGGFeatures(nn.Module):
    """Rectified responses of named VGG-19 layers for images in [0, 1].

    `conv4_2` names the ReLU output of that convolution, as Gatys et al. use the word.
    `weights`: a file path, None for torchvision's ImageNet weights, or "random" (tests).
    `pooling="avg"` swaps max pooling for average pooling, which Gatys et al. found smoother.
    """

    def __init__(
        self, layers: list[str], weights: str | Path | None = None, pooling: str = "max"
    ) -> None:
        super().__init__()
        from torchvision.models import vgg19

        names = layer_names()
        wanted = [n.replace("conv", "relu") for n in layers]
        unknown = [layer for layer, n in zip(layers, wanted, strict=True) if n not in names]
        if unknown:
            raise ConfigError(
                f"unknown VGG-19 layer(s) {', '.join(unknown)}; use conv1_1 ... conv5_4"
            )
        if pooling not in ("max", "avg"):
            raise ConfigError(f"pooling must be max or avg, got '{pooling}'")
        net = vgg19(weights=None)
        state = _vgg19_state(weights)
        if state is not None:
            features = {
                k.removeprefix("features."): v
                for k, v in state.items()
                if not k.startswith("classifier.")
            }
            try:
                net.features.load_state_dict(features)
            except RuntimeError:
                raise CheckpointError(
                    "the VGG weights file does not fit torchvision's vgg19"
                ) from None
        depth = max(names.index(n) for n in wanted) + 1
        modules = list(net.features.children())[:depth]
        if pooling == "avg":
            modules = [nn.AvgPool2d(2, 2) if isinstance(m, nn.MaxPool2d) else m for m in modules]
        self.layers = nn.Sequential(
            *[nn.ReLU(inplace=False) if isinstance(m, nn.ReLU) else m for m in modules]
        )
        self.taps: dict[int, list[str]] = {}  # module index -> requested names there
        for layer, n in zip(layers, wanted, strict=True):
            self.taps.setdefault(names.index(n), []).append(layer)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.requires_grad_(False)
        self.eval()

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        x = (image.expand(-1, 3, -1, -1) - self.mean) / self.std
        out = {}
        for i, layer in enumerate(self.layers):
            x = layer(x)
            for name in self.taps.get(i, ()):
                out[name] = x
        return out
