"""The settings of neural style transfer: one declaration for the library and the command.

Kept free of heavy imports, so that building the command's parser stays instant.
"""

from __future__ import annotations

import argparse
import typing
from dataclasses import dataclass, field
from typing import Any

from gan_style.config import ConvBackend

STYLE_LAYERS = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")
COLOUR_MODES = ("none", "luminance", "histogram")


def parse_names(text: str) -> tuple[str, ...]:
    """`conv4_2,conv5_1` -> ("conv4_2", "conv5_1")."""
    return tuple(x.strip() for x in text.split(",") if x.strip())


def parse_floats(text: str) -> tuple[float, ...]:
    """`0.7,0.3` -> (0.7, 0.3); anything else is an error that argparse reports."""
    try:
        return tuple(float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers, got '{text}'"
        ) from None


def option(default: Any, help: str, **argparse: Any) -> Any:
    """A field that is also a `gan-style stylize` option: `help`, and argparse's `type` or
    `choices` where the default's type is not enough."""
    return field(default=default, metadata={"help": help, **argparse})


@dataclass
class StyleOptions:
    """Every setting of `stylize`; the command's options are made from these fields (the field
    `style_weight` is `--style-weight`), so the two cannot disagree."""

    size: int = option(512, "long side of the output in px (0 = the content's size)")
    scales: int = option(1, "coarse-to-fine levels: 3 optimises at size/4, size/2, then size")
    iterations: int = option(300, "iterations per scale")
    optimizer: str = option("lbfgs", "optimiser", choices=("lbfgs", "adam"))
    lr: float | None = option(None, "learning rate (default 1.0 for L-BFGS, 0.02 for Adam)")
    lr_decay: float = option(0.1, "Adam: the rate decays exponentially to lr * this")
    init: str = option("content", "starting image", choices=("content", "style", "noise"))
    # Weights as in the PyTorch neural-style tutorial.
    content_weight: float = option(1.0, "weight of the content loss")
    style_weight: float = option(1e6, "weight of the style (Gram) loss")
    tv_weight: float = option(1e-2, "weight of the total-variation smoothness loss")
    content_layers: tuple[str, ...] = option(("conv4_2",), "comma list of layers", type=parse_names)
    style_layers: tuple[str, ...] = option(STYLE_LAYERS, "comma list of layers", type=parse_names)
    style_layer_weights: tuple[float, ...] | None = option(
        None, "one weight per style layer (default all 1)", type=parse_floats
    )
    pooling: str = option("max", "VGG's pooling", choices=("max", "avg"))
    preserve_colors: str = option(
        "none", "keep the content's colours: luminance (YIQ) or histogram matching",
        choices=COLOUR_MODES,
    )  # fmt: skip
    snapshot_every: int = option(0, "also save the image every k iterations (0 = never)")
    seed: int = option(0, "seed of the noise initialisation")
    conv_backend: str = option(
        "auto",
        "auto: NNPACK (Winograd) VGG convolutions on CPU",
        choices=typing.get_args(ConvBackend),
    )
