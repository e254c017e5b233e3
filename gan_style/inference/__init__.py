"""Using trained generators: loading them from any checkpoint kind, translating arrays, and
translating the user's files and folders."""

from gan_style.inference.generators import Generators, load_generators, parse_blend
from gan_style.inference.tiling import translate_tiled
from gan_style.inference.translation import translate_images

__all__ = [
    "Generators",
    "load_generators",
    "parse_blend",
    "translate_images",
    "translate_tiled",
]
