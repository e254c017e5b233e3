"""Exporting one generator to ONNX or TorchScript, with dynamic batch, height and width."""

from __future__ import annotations

import io
import os
import tempfile
import warnings
from pathlib import Path

import torch
from torch import nn

from gan_style.disk import no_space_is_one_line
from gan_style.errors import GanStyleError
from gan_style.inference import Generators
from gan_style.inference.onnx_export import IMAGE_AXES, BakedStyle, input_channels, write_onnx
from gan_style.inference.onnx_file import BF16_KEY, DIRECTION_KEY, MULTIPLE_KEY, describe_onnx

FORMATS = {"onnx": ".onnx", "torchscript": ".pt"}


def exported_network(gens: Generators, direction: str) -> nn.Module:
    """The trained network of `direction`: a wrapper that converts images around it
    (colorization's) is not exported, the network itself is."""
    generator = gens.pick(direction)
    return getattr(generator, "network", generator)


class StyleInput(nn.Module):
    """A style-conditioned generator taking the style code as its second input."""

    def __init__(self, generator: nn.Module) -> None:
        super().__init__()
        self.generator = generator

    def forward(self, image: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        return self.generator(image, style)


def export_generator(
    gens: Generators,
    direction: str,
    fmt: str,
    out: Path,
    style: torch.Tensor | None = None,
    style_input: bool = False,
    int8: bool = False,
    calibration: Path | None = None,
    bf16: bool = False,
) -> Path:
    """Write the `direction` generator to `out`.

    The exported network takes N x C x H x W float images in [-1, 1] with H and W multiples of
    `gens.multiple` (4 for ResNets, 128/256 for U-Nets) and returns the same shape. A
    multistyle generator is exported for one style code (`style`, e.g. a blend, built in) or,
    with `style_input`, with the N x style_dim code as a second input named `style`.

    `int8` writes an approximate int8 ONNX file instead (`inference/int8.py`), calibrated on
    the photos in `calibration` (else on photo-like probes), with its measured agreement with
    the fp32 network in its metadata. `bf16` writes the fp32 file marked to run in bf16 (fast
    on CPUs with AMX), with its measured agreement on the same images.
    """
    if fmt not in FORMATS:
        raise GanStyleError(f"unknown export format '{fmt}'; choose {', '.join(FORMATS)}")
    if int8 and bf16:
        raise GanStyleError("give --int8 or --bf16, not both")
    flag = "--int8" if int8 else "--bf16" if bf16 else None
    if flag and (fmt != "onnx" or style_input):
        raise GanStyleError(f"{flag} writes a one-input ONNX file: use it with --format onnx, "
                            "without --style-input")  # fmt: skip
    if calibration is not None and flag is None:
        raise GanStyleError("--calibration is for --int8 and --bf16 exports; add one or drop it")
    if fmt == "onnx":
        try:
            import onnx  # noqa: F401  (torch.onnx needs it to write the file)
        except ImportError:
            raise GanStyleError(
                "ONNX export needs the onnx package: pip install 'gan-style[export]'"
            ) from None
    generator = exported_network(gens, direction).cpu().eval()
    size = max(64, gens.multiple)
    example: tuple[torch.Tensor, ...] = (
        torch.rand(1, input_channels(generator), size, size) * 2 - 1,
    )
    names, dynamic = ["image"], {"image": IMAGE_AXES, "translated": IMAGE_AXES}
    if gens.styles:
        if (style is None) == (not style_input):
            raise GanStyleError(
                f"{gens.source} is a multistyle model: export it for one style (--style NAME or "
                f"a blend, or --style-image) or with the style code as an input (--style-input)"
            )
        if style_input:
            generator = StyleInput(generator)
            example = (*example, torch.zeros(1, gens.style_embedding.embedding_dim))
            names, dynamic = [*names, "style"], dynamic | {"style": {0: "batch"}}
        else:
            generator = BakedStyle(generator, style.cpu())
    elif style is not None or style_input:
        raise GanStyleError(f"{gens.source} is not a multistyle model; drop --style/--style-input")
    out.parent.mkdir(parents=True, exist_ok=True)
    # Made beside `out` and renamed over it when whole: a full disk or Ctrl-C leaves no part.
    work = tempfile.TemporaryDirectory(dir=out.parent, prefix=".export-")
    with no_space_is_one_line(out), work as tmp:
        made = Path(tmp) / out.name
        if fmt == "torchscript":
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # tracer notes that do not concern users
                traced = torch.jit.trace(generator, example)
            buffer = io.BytesIO()  # PyTorch's own file writer aborts the process on a full disk
            torch.jit.save(traced, buffer)
            made.write_bytes(buffer.getvalue())
        elif int8 or bf16:
            _write_approximate("int8" if int8 else "bf16", generator, example, made,
                               gens.multiple, direction, calibration)  # fmt: skip
        else:
            write_onnx(generator, example, made, names, dynamic)
            describe_onnx(made, {MULTIPLE_KEY: str(gens.multiple), DIRECTION_KEY: direction})
        os.replace(made, out)
    return out


def _write_approximate(
    kind: str,
    generator: nn.Module,
    example: tuple[torch.Tensor, ...],
    out: Path,
    multiple: int,
    direction: str,
    calibration: Path | None,
) -> None:
    """Export fp32, then write into `out` its int8 version (calibrated and quantised) or, for
    bf16, the same file marked to run in bf16; each with how far it is from fp32 on the
    calibration images in its metadata."""
    import json
    import shutil

    from gan_style.inference import int8
    from gan_style.runtime.lanes import usable_cores

    images, source = int8.calibration_images(calibration, example[0].shape[1])
    described = {MULTIPLE_KEY: str(multiple), DIRECTION_KEY: direction}
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".export-") as tmp:
        fp32, made = Path(tmp) / "fp32.onnx", Path(tmp) / f"{kind}.onnx"
        write_onnx(
            generator, example, fp32, ["image"], {"image": IMAGE_AXES, "translated": IMAGE_AXES}
        )
        describe_onnx(fp32, {MULTIPLE_KEY: str(multiple)})
        if kind == "int8":
            # The engine's recipes, judged on the calibration images: the fast one where it
            # keeps to its bar there, else the careful one, whatever it measures.
            int8.quantize_by_recipes(
                fp32, made, images, multiple, described, source,
                lambda quantised: int8.agreement(fp32, quantised, images, usable_cores()),
            )  # fmt: skip
        else:  # the engine's check of its own bf16 conversions, on these images
            shutil.copyfile(fp32, made)
            describe_onnx(made, described | {BF16_KEY: "{}"})  # so the engine compiles it in bf16
            found = int8.agreement(fp32, made, images, usable_cores())
            describe_onnx(
                made, described | {BF16_KEY: json.dumps({**found, "calibration": source})}
            )
        os.replace(made, out)
