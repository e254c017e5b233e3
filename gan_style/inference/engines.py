"""Which engine runs a generator on the CPU, and converting generators for MNN, once per weights.

`translate`, `gallery`, `evaluate` and the web page ask `cpu_engine` for the generator they
loaded. The first time a generator's weights are seen, they are exported to ONNX, converted
with MNN's converter and checked against PyTorch on two probe images; the converted model is
kept in the cache folder under a hash of the weights, the network's layers, the style code and
the versions of the tools. A network that MNN cannot convert, or whose output differs, is
recorded as such and runs on PyTorch from then on, so the check is paid once.

`translate` also records which converted model a checkpoint file gave (`mnn_engine.FileIndex`),
so that the next `translate` of the same file starts without PyTorch.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import warnings
import weakref
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gan_style.errors import ConfigError, GanStyleError
from gan_style.inference import mnn_engine
from gan_style.inference.mnn_engine import ENGINES, MnnGenerator
from gan_style.inference.translation import draws_randomly, translate_batch
from gan_style.runtime.files import write_atomic
from gan_style.runtime.lanes import usable_cores

# How far MNN's output may be from PyTorch's on the probes, in [-1, 1] units (one grey level
# is 0.0078): the paper generator measured 0.0024 at most and 0.00027 on average.
MAX_DIFFERENCE = 0.02
MEAN_DIFFERENCE = 0.002
CONVERT_TIMEOUT_S = 600


class BakedStyle(nn.Module):
    """A style-conditioned generator with one style code built in: one input, like any other."""

    def __init__(self, generator: nn.Module, code: torch.Tensor) -> None:
        super().__init__()
        self.generator = generator
        self.register_buffer("code", code.detach().reshape(1, -1).clone())

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.generator(image, self.code.expand(image.shape[0], -1))


def write_onnx(
    network: nn.Module,
    example: tuple[torch.Tensor, ...],
    out: Path,
    names: list[str],
    dynamic: dict[str, dict[int, str]],
) -> None:
    """`network` to an ONNX file with the given dynamic axes (`export` and MNN conversion)."""
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer and exporter notes that do not concern users
        torch.onnx.export(
            network, example, str(out), input_names=names, output_names=["translated"],
            dynamic_axes=dynamic, opset_version=17, dynamo=False,
        )  # fmt: skip


def input_channels(network: nn.Module) -> int:
    """Channels of the images the network takes: those of its first convolution."""
    return next(m for m in network.modules() if isinstance(m, nn.Conv2d)).in_channels


# Engines already made in this process, by network and style code: hashing the weights again
# for every batch a gallery or an evaluation translates would cost 50 ms a time.
_MADE: weakref.WeakKeyDictionary[nn.Module, dict[bytes, MnnGenerator | None]] = (
    weakref.WeakKeyDictionary()
)


def cpu_engine(
    generator: nn.Module,
    multiple: int,
    style: torch.Tensor | None = None,
    engine: str = "auto",
    precision: str = "fp32",
) -> MnnGenerator | None:
    """The MNN engine for `generator` (with `style` built in), or None where PyTorch runs it:
    `engine` pytorch, a `precision` other than fp32 (MNN computes in fp32), a generator off
    the CPU or drawing random numbers at test time, MNN missing, or a network MNN does not
    convert faithfully. `engine` mnn makes the last four an error."""
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine '{engine}'; choose {', '.join(ENGINES)}")
    if engine == "pytorch" or precision != "fp32":
        return None
    why_not = _unsuitable(generator)
    if why_not is None and not mnn_engine.available():
        why_not = "MNN is not installed (pip install MNN)"
    if why_not is None:
        code = b"" if style is None else style.detach().float().cpu().numpy().tobytes()
        made = _MADE.setdefault(generator, {})
        if code not in made:
            made[code] = _cached_or_converted(generator, multiple, style)
        result = made[code]
        if result is not None:
            return result
        why_not = "MNN does not convert this network faithfully (see the cache's .unsupported)"
    if engine == "mnn":
        raise ConfigError(f"--engine mnn: {why_not}; use --engine auto or pytorch")
    return None


def _unsuitable(generator: nn.Module) -> str | None:
    if next(generator.parameters()).device.type != "cpu":
        return "the generator is not on the CPU"
    if draws_randomly(generator):
        return "the generator draws random numbers at test time (add --eval-mode)"
    return None


def weights_key(generator: nn.Module, multiple: int, style: torch.Tensor | None) -> str:
    """A hash of everything the converted model depends on."""
    h = hashlib.sha256()
    versions = (mnn_engine.ENGINE_VERSION, torch.__version__, mnn_engine.mnn_version(), multiple)
    h.update(repr(versions).encode())
    h.update(repr(generator).encode())  # the layers and their settings
    for name, tensor in generator.state_dict().items():
        h.update(f"{name}{tuple(tensor.shape)}{tensor.dtype}".encode())
        h.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy())
    if style is not None:
        h.update(style.detach().float().cpu().numpy().tobytes())
    return h.hexdigest()[:32]


def _cached_or_converted(
    generator: nn.Module, multiple: int, style: torch.Tensor | None
) -> MnnGenerator | None:
    folder = mnn_engine.cache_dir()
    key = weights_key(generator, multiple, style)
    model, refused = folder / f"{key}.mnn", folder / f"{key}.unsupported"
    if refused.is_file():
        return None
    threads = usable_cores()
    if model.is_file() and mnn_engine.description_path(model).is_file():
        try:
            return MnnGenerator(model, threads)
        except Exception:  # a damaged cache entry is converted again, not reported
            pass
    try:
        problem = convert(generator, multiple, style, model)
        if problem is not None:
            write_atomic(refused, lambda f: f.write(problem.encode()))
            return None
        return MnnGenerator(model, threads)
    except (OSError, subprocess.TimeoutExpired, GanStyleError):
        return None  # a cache folder that cannot be written, say: PyTorch runs it this time


def convert(
    generator: nn.Module, multiple: int, style: torch.Tensor | None, model: Path
) -> str | None:
    """Convert `generator` to the MNN file `model` (and its description) and check it against
    PyTorch; the reason when it cannot be used, else None. Nothing is left at `model` unless
    the check passed."""
    # In eval mode like the generator (`_unsuitable`): the exporter sets every module back to
    # the top module's mode afterwards, and a new wrapper is in training mode.
    network = generator if style is None else BakedStyle(generator, style.cpu()).eval()
    channels = input_channels(network)
    model.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=model.parent, prefix=".converting-") as tmp:
        onnx_file, mnn_file = Path(tmp) / "g.onnx", Path(tmp) / "g.mnn"
        size = max(64, multiple)
        example = (torch.rand(1, channels, size, size) * 2 - 1,)
        axes = {0: "batch", 2: "height", 3: "width"}
        try:
            write_onnx(network, example, onnx_file, ["image"], {"image": axes, "translated": axes})
        except Exception as e:  # the exporter raises many kinds for graphs it cannot write
            return f"ONNX export failed: {str(e).splitlines()[0] if str(e) else type(e).__name__}"
        done = subprocess.run(
            [sys.executable, "-c", _CONVERT, str(onnx_file), str(mnn_file)],
            capture_output=True, text=True, timeout=CONVERT_TIMEOUT_S,
        )  # fmt: skip
        if done.returncode != 0 or not mnn_file.is_file():
            tail = (done.stdout + done.stderr).strip().splitlines()[-1:] or ["no output"]
            return f"MNN's converter failed: {tail[0]}"
        description = mnn_engine.description_path(mnn_file)
        description.write_text(
            json.dumps({mnn_engine.MULTIPLE_KEY: multiple, mnn_engine.CHANNELS_KEY: channels})
        )
        converted = MnnGenerator(mnn_file, usable_cores())
        problem = _disagreement(generator, style, converted, channels, size)
        if problem is not None:
            return problem
        os.replace(mnn_file, model)  # the model first: without its description it is not used
        os.replace(description, mnn_engine.description_path(model))
    return None


# MNN's converter, called without `MNN.tools`: importing that package runs `pip install` of a
# logging SDK and sends each conversion's details to a server of its authors.
_CONVERT = (
    "import sys, _tools; onnx, out = sys.argv[1:]; _tools.mnnconvert(['mnnconvert', '-f', "
    "'ONNX', '--modelFile', onnx, '--MNNModel', out, '--bizCode', 'gan_style'])"
)


def _disagreement(
    generator: nn.Module,
    style: torch.Tensor | None,
    converted: MnnGenerator,
    channels: int,
    size: int,
) -> str | None:
    """Both engines on two probe sizes (a square and a wider one: the sizes are dynamic)."""
    rng = np.random.default_rng(0)
    for h, w in ((size, size), (size, size + max(4, converted.multiple))):
        probe = _smooth_probe(rng, h, w, channels)
        expected = translate_batch(generator, probe[None], converted.multiple, style)[0]
        got = converted.translate(probe)
        difference = np.abs(expected.astype(np.float32) - got.astype(np.float32)) / 127.5
        if difference.max() > MAX_DIFFERENCE or difference.mean() > MEAN_DIFFERENCE:
            return (
                f"MNN's output differs from PyTorch's at {h}x{w}: {difference.max():.4f} at most, "
                f"{difference.mean():.5f} on average (limits {MAX_DIFFERENCE}, {MEAN_DIFFERENCE})"
            )
    return None


def _smooth_probe(rng: np.random.Generator, h: int, w: int, channels: int) -> np.ndarray:
    """A photo-like 8-bit image: gradients and noise, not white noise (whose outputs saturate)."""
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    phase = rng.uniform(0, 6, channels)
    image = np.stack(
        [0.5 + 0.4 * np.sin(5 * (xx + yy * (c + 1)) + phase[c]) for c in range(channels)], -1
    )
    image += rng.normal(0, 0.03, image.shape)
    return (np.clip(image, 0, 1) * 255).astype(np.uint8)
