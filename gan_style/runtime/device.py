"""Which device a command runs on, and the seeds that make a CPU run reproducible."""

from __future__ import annotations

import random

import numpy as np
import torch

from gan_style.errors import ConfigError


def pick_device(name: str) -> torch.device:
    """`auto` picks cuda, then mps, then cpu; a named device that is not visible is an error."""
    if name.startswith("cuda:"):  # a distributed rank's own GPU
        return torch.device(name)
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    available = {
        "cpu": True,
        "cuda": torch.cuda.is_available(),
        "mps": torch.backends.mps.is_available(),
    }
    if name not in available:
        raise ConfigError(f"unknown device '{name}'; use auto, cpu, cuda or mps")
    if not available[name]:
        raise ConfigError(f"device {name} was asked for but is not visible; use auto or cpu")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
