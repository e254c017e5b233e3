"""The perceptual term of the generators' objectives: how far two images' VGG-19 conv4_2
features are apart (Johnson et al. 2016). CycleGAN compares a translation with its input (it
keeps the content); pix2pix with its target (it learns the look, not only the pixels)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from gan_style.config import Config
from gan_style.losses import content_loss


def perceptual_network(cfg: Config) -> nn.Module | None:
    """VGG-19 up to conv4_2 when loss.lambda_perceptual is on; None otherwise."""
    if cfg.loss.lambda_perceptual <= 0:
        return None
    from gan_style.neural_style.vgg import VGGFeatures

    return VGGFeatures(["conv4_2"], weights=cfg.loss.vgg_weights or None)


class WithPerceptual(nn.Module):
    """A model with a fixed VGG for its perceptual term: kept as a plain attribute, not a
    submodule, so its weights stay out of checkpoints; moved with the model all the same."""

    def attach_vgg(self, vgg: nn.Module | None, weight: float) -> None:
        self.__dict__["vgg"] = vgg
        self.lambda_perceptual = weight

    @property
    def fixed_networks(self) -> list[nn.Module]:
        return [self.vgg] if self.vgg is not None else []

    def perceptual(self, output: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        """The weighted distance of `output`'s features from `reference`'s (images in
        [-1, 1]); no gradient flows into the reference."""
        feats = self.vgg((output + 1) / 2)["conv4_2"]
        with torch.no_grad():
            target = self.vgg((reference + 1) / 2)["conv4_2"]
        return content_loss(feats, target) * self.lambda_perceptual

    def _apply(self, fn: Callable[[torch.Tensor], torch.Tensor], recurse: bool = True):
        """`.to(device)` and friends also move the VGG."""
        super()._apply(fn, recurse)
        if self.__dict__.get("vgg") is not None:
            self.vgg._apply(fn)
        return self
