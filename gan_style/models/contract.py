"""The model contract: what the training loop, evaluation, galleries and inference may ask of a
translation model, so none of them needs to know which model it holds."""

from __future__ import annotations

from typing import ClassVar, Protocol, runtime_checkable

import torch
from torch import nn

from gan_style.config import Config, ModelConfig

Batch = dict[str, torch.Tensor]  # "A", "B" images in [-1, 1]; "style" indices for styled models


@runtime_checkable
class TranslationModel(Protocol):
    """A translation method: its networks and the losses of its training step.

    The training loop owns optimizers, `backward`, autocast and gradient toggling; the model
    only computes losses. `generator_step` keeps the fakes that `discriminator_step` then judges,
    so one iteration runs each generator once per use.
    """

    cycle: ClassVar[bool]  # has a reverse generator G_BA whose round trip is scored (rec_A)
    styled: ClassVar[bool]  # generators take a style code; data holds trainB/<style>/ folders

    @classmethod
    def from_config(cls, cfg: Config) -> TranslationModel:
        """Every network, initialised for training."""
        ...

    @classmethod
    def inference_networks(cls, cfg: Config) -> dict[str, nn.Module]:
        """The networks that translation needs, by checkpoint name (G_AB, G_BA, ...), built as
        training builds them, ready for their saved weights."""
        ...

    @classmethod
    def image_network(cls, network: nn.Module) -> nn.Module:
        """The inference network as translation uses it: RGB (or gray) images in [-1, 1] in,
        images out. Most generators are that already; a wrapper keeps the trained network
        as `.network` (export writes that one)."""
        ...

    @classmethod
    def prepare_config(cls, cfg: Config) -> Config:
        """The config as the run should record it (e.g. the resolved list of styles)."""
        ...

    @property
    def named_generators(self) -> dict[str, nn.Module]:
        """The networks saved into generator.pt, by name: `inference_networks`' keys."""
        ...

    @property
    def generators(self) -> list[nn.Module]: ...

    @property
    def discriminators(self) -> list[nn.Module]: ...

    @property
    def fixed_networks(self) -> list[nn.Module]:
        """Networks that run in the training step without being trained (a perceptual loss's
        VGG): the speed options apply to them too; they stay out of checkpoints."""
        ...

    def generator_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Generator losses `G/...`, with their sum as `G/total`."""
        ...

    def discriminator_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Discriminator losses `D.../...`, with their sum as `D/total`; {} where the model
        trains no discriminator this run (pix2pix without its adversarial term)."""
        ...

    def translate(self, real_A: torch.Tensor, real_B: torch.Tensor) -> dict[str, torch.Tensor]:
        """The model's outputs for a batch of each domain (fake_B, and rec_A... where it has
        them)."""
        ...

    def sample_columns(self, real_A: torch.Tensor, real_B: torch.Tensor) -> dict[str, torch.Tensor]:
        """The sample grid's columns, in order."""
        ...

    def pools_state_dict(self) -> dict:
        """The image pools' contents, for exact resume ({} without pools)."""
        ...

    def load_pools_state_dict(self, state: dict, device: torch.device | str = "cpu") -> None: ...


class Defaults:
    """What most models do for the contract's optional parts; a model inherits it beside
    nn.Module and overrides what it needs."""

    @classmethod
    def image_network(cls, network: nn.Module) -> nn.Module:
        return network

    @classmethod
    def prepare_config(cls, cfg: Config) -> Config:
        return cfg

    @property
    def fixed_networks(self) -> list[nn.Module]:
        return []

    def pools_state_dict(self) -> dict:
        return {}

    def load_pools_state_dict(self, state: dict, device: torch.device | str = "cpu") -> None:
        return None


def generator_options(m: ModelConfig) -> dict[str, bool | str]:
    """The `model.*` options that every model passes to `build_generator` the same way, so a
    new one is added here once rather than in each model."""
    return {"antialias": m.antialias, "upsample": m.upsample, "global_skip": m.global_skip,
            "skip_filter": m.skip_filter, "long_skip": m.long_skip,
            "spread_hints": m.spread_hints, "upscale": m.upscale,
            "upscale_head": m.upscale_head}  # fmt: skip
