"""Using trained generators: loading them from any checkpoint kind, translating arrays, and
translating the user's files and folders."""

from __future__ import annotations

from importlib import import_module
from typing import Any

# Loaded on first use: translating with an exported ONNX file (`openvino_engine`) needs neither
# PyTorch nor the checkpoint code, and importing PyTorch takes longer than that whole run.
_LAZY = {
    "Generators": "generators",
    "load_generators": "generators",
    "parse_blend": "generators",
    "translate_images": "translation",
    "translate_tiled": "tiling",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f"gan_style.inference.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'gan_style.inference' has no attribute '{name}'")


__all__ = [
    "Generators",
    "load_generators",
    "parse_blend",
    "translate_images",
    "translate_tiled",
]
