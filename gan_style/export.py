"""Exporting one generator to ONNX or TorchScript, with dynamic batch, height and width."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch

from gan_style.errors import GanStyleError
from gan_style.inference import Generators, pick

FORMATS = {"onnx": ".onnx", "torchscript": ".pt"}


def export_generator(gens: Generators, direction: str, fmt: str, out: Path) -> Path:
    """Write the `direction` generator to `out`.

    The exported network takes N x C x H x W float images in [-1, 1] with H and W multiples of
    `gens.multiple` (4 for ResNets, 128/256 for U-Nets) and returns the same shape.
    """
    if fmt not in FORMATS:
        raise GanStyleError(f"unknown export format '{fmt}'; choose {', '.join(FORMATS)}")
    if fmt == "onnx":
        try:
            import onnx  # noqa: F401  (torch.onnx needs it to write the file)
        except ImportError:
            raise GanStyleError(
                "ONNX export needs the onnx package: pip install 'gan-style[export]'"
            ) from None
    generator = pick(gens, direction).cpu().eval()
    size = max(64, gens.multiple)
    example = torch.rand(1, gens.config.data.channels, size, size) * 2 - 1
    out.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer and exporter notes that do not concern users
        if fmt == "torchscript":
            torch.jit.trace(generator, example).save(str(out))
        else:
            axes = {0: "batch", 2: "height", 3: "width"}
            torch.onnx.export(
                generator, (example,), str(out), input_names=["image"],
                output_names=["translated"], dynamic_axes={"image": axes, "translated": axes},
                opset_version=17, dynamo=False,
            )  # fmt: skip
    return out
