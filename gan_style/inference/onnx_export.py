"""Writing a PyTorch generator to ONNX: for `gan-style export` and for the engine's
conversions (`conversion.py`)."""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

import torch
from torch import nn

OPSET = 17
IMAGE_AXES = {0: "batch", 2: "height", 3: "width"}


class BakedStyle(nn.Module):
    """A style-conditioned generator with one style code built in: one input, like any other."""

    def __init__(self, generator: nn.Module, code: torch.Tensor) -> None:
        super().__init__()
        self.generator = generator
        self.register_buffer("code", code.detach().reshape(1, -1).clone())

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.generator(image, self.code.expand(image.shape[0], -1))


def input_channels(network: nn.Module) -> int:
    """Channels of the images the network takes: its `image_channels` where it says (one that
    extends its input first), else those of its first convolution."""
    stated = getattr(network, "image_channels", None)
    if stated is not None:
        return stated
    return next(m for m in network.modules() if isinstance(m, nn.Conv2d)).in_channels


@functools.cache
def _register_missing_operators() -> None:
    """ONNX has `Atanh` (opset 9), but PyTorch's exporter has no rule for it: the global skip
    (`networks.generators`) uses it."""
    torch.onnx.register_custom_op_symbolic("aten::atanh", lambda g, x: g.op("Atanh", x), 9)


def write_onnx(
    network: nn.Module,
    example: tuple[torch.Tensor, ...],
    out: Path,
    names: list[str],
    dynamic: dict[str, dict[int, str]],
) -> None:
    """`network` to an ONNX file with the given dynamic axes."""
    _register_missing_operators()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer and exporter notes that do not concern users
        torch.onnx.export(
            network, example, str(out), input_names=names, output_names=["translated"],
            dynamic_axes=dynamic, opset_version=OPSET, dynamo=False,
        )  # fmt: skip


def write_image_network(
    generator: nn.Module, style: torch.Tensor | None, multiple: int, out: Path
) -> int:
    """The network (with `style` built in) as a one-input ONNX file of any batch and size; its
    input channels. Raises what the exporter raises for a graph it cannot write."""
    # In eval mode like the generator: the exporter sets every module back to the top
    # module's mode afterwards, and a new wrapper is in training mode.
    network = generator if style is None else BakedStyle(generator, style.cpu()).eval()
    channels = input_channels(network)
    size = max(64, multiple)
    example = (torch.rand(1, channels, size, size) * 2 - 1,)
    write_onnx(network, example, out, ["image"], {"image": IMAGE_AXES, "translated": IMAGE_AXES})
    return channels
