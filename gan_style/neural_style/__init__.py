"""Neural style transfer by optimisation (Gatys et al. 2016), with colour control (2017)."""

from __future__ import annotations

from typing import Any

from gan_style.neural_style.options import StyleOptions

_LAZY = {
    "StyleResult": "gan_style.neural_style.optimize",
    "stylize": "gan_style.neural_style.optimize",
    "VGGFeatures": "gan_style.neural_style.vgg",
}


def __getattr__(name: str) -> Any:
    """The torch-backed parts load on first use, so that the options (and the command's
    parser) import without torch."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'gan_style.neural_style' has no attribute '{name}'")


__all__ = ["StyleOptions", "StyleResult", "VGGFeatures", "stylize"]
