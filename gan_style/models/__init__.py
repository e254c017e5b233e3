"""Translation models: the networks of one method plus the losses of its training step."""

from __future__ import annotations

import torch

from gan_style.config import Config
from gan_style.errors import ConfigError
from gan_style.losses import GANLoss
from gan_style.models.colorization import Colorization
from gan_style.models.contract import Batch, TranslationModel
from gan_style.models.cut import CUT, FastCUT
from gan_style.models.cycle_gan import CycleGAN
from gan_style.models.image_pool import ImagePool
from gan_style.models.multistyle import MultiStyleCycleGAN
from gan_style.models.pix2pix import Pix2Pix
from gan_style.networks import diffaugment

MODELS: dict[str, type[TranslationModel]] = {
    "cycle_gan": CycleGAN,
    "pix2pix": Pix2Pix,
    "multistyle": MultiStyleCycleGAN,
    "cut": CUT,
    "fastcut": FastCUT,
    "colorization": Colorization,
}


def model_class(name: str) -> type[TranslationModel]:
    """The model named by `model.name`; the rest of the code asks it, not its name."""
    if name not in MODELS:
        raise ConfigError(f"unknown model '{name}'; choose one of {', '.join(MODELS)}")
    return MODELS[name]


def build_model(cfg: Config) -> TranslationModel:
    """The model of `cfg`, with the discriminator options every model takes applied."""
    return regularise_discriminators(model_class(cfg.model.name).from_config(cfg), cfg)


def regularise_discriminators(model: TranslationModel, cfg: Config) -> TranslationModel:
    """`model.spectral_norm` (Miyato et al. 2018) on every discriminator convolution,
    `model.diffaugment` (Zhao et al. 2020) on every discriminator's input and `loss.lambda_r1`
    on the model's adversarial loss: options of every model, set here once."""
    for discriminator in model.discriminators:
        diffaugment.attach(discriminator, cfg.model.diffaugment)
    if cfg.model.spectral_norm:
        from torch.nn.utils.parametrizations import spectral_norm

        for discriminator in model.discriminators:
            for module in list(discriminator.modules()):
                if isinstance(module, torch.nn.Conv2d):
                    spectral_norm(module)
    for module in model.modules():
        if isinstance(module, GANLoss):
            module.r1_weight = cfg.loss.lambda_r1
    return model


__all__ = [
    "CUT",
    "MODELS",
    "Batch",
    "Colorization",
    "CycleGAN",
    "FastCUT",
    "ImagePool",
    "MultiStyleCycleGAN",
    "Pix2Pix",
    "TranslationModel",
    "build_model",
    "model_class",
]
