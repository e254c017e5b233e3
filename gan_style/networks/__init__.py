"""Generators, discriminators and their building blocks."""

from gan_style.networks.discriminators import DISCRIMINATORS, build_discriminator
from gan_style.networks.generators import (
    GENERATORS,
    build_generator,
    set_strength,
    size_multiple,
)
from gan_style.networks.init import init_weights

__all__ = [
    "DISCRIMINATORS",
    "GENERATORS",
    "build_discriminator",
    "build_generator",
    "init_weights",
    "set_strength",
    "size_multiple",
]
