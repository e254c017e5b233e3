"""Learning-rate schedules, stepped once per epoch."""

from __future__ import annotations

import math
from collections.abc import Callable

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR

from gan_style.config import TrainConfig


def lr_factor(cfg: TrainConfig) -> Callable[[int], float]:
    """Multiplier of the base learning rate at a 0-based epoch.

    - linear: constant for `epochs`, then down to 0 over `epochs_decay` (CycleGAN paper);
    - cosine: constant for `epochs`, then a half cosine over `epochs_decay`;
    - step: multiplied by `lr_gamma` every `lr_decay_every` epochs.
    """
    constant, decay = cfg.epochs, cfg.epochs_decay

    def decayed_fraction(epoch: int) -> float:
        return max(0, epoch + 1 - constant) / (decay + 1)

    policies: dict[str, Callable[[int], float]] = {
        "linear": lambda e: 1.0 - decayed_fraction(e),
        "cosine": lambda e: 0.5 * (1.0 + math.cos(math.pi * decayed_fraction(e))),
        "step": lambda e: cfg.lr_gamma ** (e // max(1, cfg.lr_decay_every)),
    }
    if cfg.lr_policy not in policies:
        raise ValueError(
            f"unknown lr_policy '{cfg.lr_policy}'; choose one of {', '.join(policies)}"
        )
    return policies[cfg.lr_policy]


def build_scheduler(optimizer: Optimizer, cfg: TrainConfig) -> LambdaLR:
    return LambdaLR(optimizer, lr_factor(cfg))
