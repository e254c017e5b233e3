"""Translation models: the networks of one method plus the losses of its training step."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from gan_style.config import Config
from gan_style.models.cycle_gan import CycleGAN
from gan_style.models.image_pool import ImagePool
from gan_style.models.multistyle import MultiStyleCycleGAN
from gan_style.models.pix2pix import Pix2Pix

MODELS: dict[str, Callable[[Config], nn.Module]] = {
    "cycle_gan": CycleGAN.from_config,
    "pix2pix": Pix2Pix.from_config,
    "multistyle": MultiStyleCycleGAN.from_config,
}


def build_model(cfg: Config) -> nn.Module:
    if cfg.model.name not in MODELS:
        raise ValueError(f"unknown model '{cfg.model.name}'; choose one of {', '.join(MODELS)}")
    return MODELS[cfg.model.name](cfg)


__all__ = ["MODELS", "CycleGAN", "ImagePool", "MultiStyleCycleGAN", "Pix2Pix", "build_model"]
