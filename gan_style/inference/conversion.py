"""Converting a PyTorch generator for the CPU engine (OpenVINO): exported to ONNX, quantised
for int8 or marked to run in bf16, checked against PyTorch on probe images, and cached under a
hash of the weights.

A network the engine does not run within its bar is recorded as refused, with the reason, so
the check is paid once per weights.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gan_style.disk import write_atomic
from gan_style.errors import GanStyleError
from gan_style.inference import int8
from gan_style.inference.conversion_cache import ENGINE_VERSION, conversion_paths
from gan_style.inference.onnx_export import write_image_network
from gan_style.inference.onnx_file import BF16_KEY, MULTIPLE_KEY, describe_onnx
from gan_style.inference.openvino_engine import OpenVinoGenerator
from gan_style.inference.probes import leaves_probe, smooth_probe
from gan_style.inference.translation import translate_batch
from gan_style.runtime.lanes import usable_cores

# How far the fp32 conversion's output may be from PyTorch's on the probes, in [-1, 1] units
# (one grey level is 0.0078).
MAX_DIFFERENCE = 0.02
MEAN_DIFFERENCE = 0.002
# px: the int8 check's dead-leaves probes; on smooth ones an int8 network far from fp32 on
# photos passed (docs/performance.md).
INT8_PROBE_SIDE = 256
# px: the bf16 check's probes. bf16 rounds every value alike, so its error does not grow with
# the image (the paper generator: 0.80 grey levels at 128 px, 0.81 at 256), and the smaller
# probes keep a checkpoint's first run short.
BF16_PROBE_SIDE = 128

ProbeMaker = Callable[[np.random.Generator, int, int, int], np.ndarray]


def weights_key(generator: nn.Module, multiple: int, style: torch.Tensor | None, kind: str) -> str:
    """A hash of everything the `kind` conversion depends on: the layers, the weights, the
    style code and the tools' versions."""
    h = hashlib.sha256()
    versions = (ENGINE_VERSION, kind, torch.__version__, int8.tool_versions(), multiple)
    h.update(repr(versions).encode())
    h.update(repr(generator).encode())  # the layers and their settings
    for name, tensor in generator.state_dict().items():
        h.update(f"{name}{tuple(tensor.shape)}{tensor.dtype}".encode())
        h.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy())
    if style is not None:
        h.update(style.detach().float().cpu().numpy().tobytes())
    return h.hexdigest()[:32]


def cached_conversion(
    generator: nn.Module, multiple: int, style: torch.Tensor | None, kind: str, fresh: bool = False
) -> tuple[Path | None, str | None]:
    """The `kind` conversion of the generator (with `style` built in), converted now unless
    cached (`fresh`: converted again, a damaged entry say): its file, or why there is none."""
    model, refused = conversion_paths(weights_key(generator, multiple, style, kind), kind)
    if refused.is_file() and not fresh:
        return None, refused.read_text().strip()
    if model.is_file() and not fresh:
        return model, None
    problem = convert(generator, multiple, style, kind, model)
    if problem is not None:
        write_atomic(refused, lambda f: f.write(problem.encode()))
        return None, problem
    return model, None


def convert(
    generator: nn.Module, multiple: int, style: torch.Tensor | None, kind: str, model: Path
) -> str | None:
    """Write the `kind` (fp32 or int8) conversion of `generator` to `model` once it is within
    its bar of PyTorch's output; the reason when it is not (nothing is written then)."""
    model.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=model.parent, prefix=".converting-") as tmp:
        fp32, made = Path(tmp) / "g.onnx", Path(tmp) / f"g{kind}.onnx"
        try:
            channels = write_image_network(generator, style, multiple, fp32)
        except Exception as e:  # the exporter raises many kinds for graphs it cannot write
            return f"ONNX export failed: {_first_line(e)}"
        # A bf16 conversion is marked so before its check, for the engine to compile it in bf16.
        marked = {BF16_KEY: "{}"} if kind == "bf16" else {}
        describe_onnx(fp32, {MULTIPLE_KEY: str(multiple)} | marked)
        try:
            if kind == "int8":
                problem = _quantised(generator, style, channels, multiple, fp32, made)
            elif kind == "bf16":
                made = fp32
                problem = _bf16_disagreement(generator, style, channels, multiple, made)
            else:
                made = fp32
                problem = _fp32_disagreement(generator, style, channels, multiple, made)
        except GanStyleError:
            raise
        except Exception as e:  # the quantiser and the engine raise many kinds for odd graphs
            return f"the {kind} conversion failed: {_first_line(e)}"
        if problem is None:
            os.replace(made, model)
        return problem


def _quantised(
    generator: nn.Module,
    style: torch.Tensor | None,
    channels: int,
    multiple: int,
    fp32: Path,
    out: Path,
) -> str | None:
    """Quantise `fp32` into `out` by the fastest recipe whose result keeps to its bar on the
    engine against PyTorch's outputs on dead-leaves probes; why not, when none does."""
    size = max(INT8_PROBE_SIDE, multiple)
    probes = _probe_outputs(generator, style, channels, size, multiple, leaves_probe)
    images, source = int8.calibration_images(None, channels)

    def measure(made: Path) -> dict[str, float]:
        engine = OpenVinoGenerator(made, usable_cores())
        return int8.agreement_of([(want, engine.translate(probe)) for probe, want in probes])

    _, found, within = int8.quantize_by_recipes(
        fp32, out, images, multiple, {MULTIPLE_KEY: str(multiple)}, source, measure
    )
    if within:
        return None
    return (
        f"its int8 version is {found['mean_grey']:.2f} grey levels from PyTorch's output on "
        f"average, SSIM {found['ssim']:.4f} (limits {int8.MEAN_GREY}, {int8.SSIM})"
    )


def _bf16_disagreement(
    generator: nn.Module, style: torch.Tensor | None, channels: int, multiple: int, made: Path
) -> str | None:
    """Measure the fp32 file `made`, marked to run in bf16 (`BF16_KEY`), as int8 is measured
    (its bar, dead-leaves probes) and record what it found in it; why not, when it misses."""
    size = max(BF16_PROBE_SIDE, multiple)
    probes = _probe_outputs(generator, style, channels, size, multiple, leaves_probe)
    engine = OpenVinoGenerator(made, usable_cores())
    found = int8.agreement_of([(want, engine.translate(probe)) for probe, want in probes])
    describe_onnx(made, {MULTIPLE_KEY: str(multiple), BF16_KEY: json.dumps(found)})
    if found["mean_grey"] <= int8.MEAN_GREY and found["ssim"] >= int8.SSIM:
        return None
    return (
        f"in bf16 it is {found['mean_grey']:.2f} grey levels from PyTorch's output on average, "
        f"SSIM {found['ssim']:.4f} (limits {int8.MEAN_GREY}, {int8.SSIM})"
    )


def _fp32_disagreement(
    generator: nn.Module, style: torch.Tensor | None, channels: int, multiple: int, made: Path
) -> str | None:
    engine = OpenVinoGenerator(made, usable_cores())
    for probe, want in _probe_outputs(
        generator, style, channels, max(64, multiple), multiple, smooth_probe
    ):
        got, (h, w) = engine.translate(probe), probe.shape[:2]
        difference = np.abs(want.astype(np.float32) - got.astype(np.float32)) / 127.5
        if difference.max() > MAX_DIFFERENCE or difference.mean() > MEAN_DIFFERENCE:
            return (
                f"the engine's output differs from PyTorch's at {h}x{w}: {difference.max():.4f} "
                f"at most, {difference.mean():.5f} on average (limits {MAX_DIFFERENCE}, "
                f"{MEAN_DIFFERENCE})"
            )
    return None


def _probe_outputs(
    generator: nn.Module,
    style: torch.Tensor | None,
    channels: int,
    size: int,
    multiple: int,
    probe_image: ProbeMaker,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Two probes (a square and a wider one: the sizes are dynamic) and PyTorch's 8-bit outputs
    on them."""
    rng = np.random.default_rng(1)  # not the int8 calibration images (seed 0)
    found = []
    for h, w in ((size, size), (size, size + max(4, multiple))):
        probe = probe_image(rng, h, w, channels)
        found.append((probe, translate_batch(generator, probe[None], multiple, style)[0]))
    return found


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__
