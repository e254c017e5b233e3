"""Which engine runs a generator on the CPU, and converting generators for it (int8 on OpenVINO
or fp32 on MNN), once per weights.

`translate`, `gallery`, `evaluate` and the web page ask `cpu_engine` for the generator they
loaded. The first time a generator's weights are seen, they are exported to ONNX, converted
(quantised for int8, MNN's converter for MNN) and checked against PyTorch on two probe images;
the converted model is kept in the cache folder under a hash of the weights, the network's
layers, the style code and the versions of the tools. A network that an engine does not
convert within its bar is recorded as such and goes to the next engine from then on, so the
check is paid once.

`translate` also records which converted model a checkpoint file gave (`mnn_engine.FileIndex`),
so that the next `translate` of the same file starts without PyTorch; and it converts to int8 in
two halves (`stage_int8`, then `int8.finish_staged` in a process without PyTorch), so that no
process holds PyTorch and ONNX Runtime's calibration at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
import weakref
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gan_style.errors import ConfigError, GanStyleError
from gan_style.inference import int8, mnn_engine, openvino_engine
from gan_style.inference.mnn_engine import ENGINES, MnnGenerator
from gan_style.inference.openvino_engine import OpenVinoGenerator
from gan_style.inference.probes import leaves_probe, smooth_probe
from gan_style.inference.translation import draws_randomly, translate_batch
from gan_style.runtime.files import write_atomic
from gan_style.runtime.lanes import usable_cores

# How far MNN's output may be from PyTorch's on the probes, in [-1, 1] units (one grey level
# is 0.0078): the paper generator measured 0.0024 at most and 0.00027 on average.
MAX_DIFFERENCE = 0.02
MEAN_DIFFERENCE = 0.002
CONVERT_TIMEOUT_S = 600
INT8_MEAN_GREY = int8.MEAN_GREY  # the int8 engine's bar (`int8.py`)
INT8_SSIM = int8.SSIM
# px: the check's probe images (small ones would not show the bar). The int8 check judges on
# dead-leaves probes (`probes.leaves_probe`): on smooth ones an int8 paper generator 2.3 grey
# levels from fp32 on landscape photos measured 1.5 and passed.
INT8_PROBE_SIDE = 256

Converted = MnnGenerator | OpenVinoGenerator
ProbeMaker = Callable[[np.random.Generator, int, int, int], np.ndarray]


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


# Engines already made in this process, by network, style code and kind: hashing the weights
# again for every batch a gallery or an evaluation translates would cost 50 ms a time.
_MADE: weakref.WeakKeyDictionary[nn.Module, dict[tuple[bytes, str], Converted | None]] = (
    weakref.WeakKeyDictionary()
)


def cpu_engine(
    generator: nn.Module,
    multiple: int,
    style: torch.Tensor | None = None,
    engine: str = "auto",
    precision: str = "fp32",
) -> Converted | None:
    """The converted engine for `generator` (with `style` built in), or None where PyTorch
    runs it.

    auto: its int8 version on OpenVINO on a CPU with 8-bit dot products (AVX-512 VNNI or
    AVX-VNNI) where that keeps within INT8_MEAN_GREY and INT8_SSIM of fp32 PyTorch, else its
    fp32 MNN conversion where MNN converts it faithfully, else PyTorch. int8 and mnn: that
    engine (int8 on any CPU) or an error. PyTorch also runs a `precision` other than fp32, a
    generator off the CPU or one drawing random numbers at test time.
    """
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine '{engine}'; choose {', '.join(ENGINES)}")
    if engine == "pytorch" or precision != "fp32":
        return None
    why_not = _unsuitable(generator)
    kinds = {"mnn": ["mnn"], "int8": ["int8"]}.get(engine) or (
        ["int8", "mnn"] if openvino_engine.fast_int8_cpu() else ["mnn"]
    )
    if why_not is None:
        for kind in kinds:
            result, why_not = _made(generator, multiple, style, kind)
            if result is not None:
                return result
    if engine in ("mnn", "int8"):
        raise ConfigError(f"--engine {engine}: {why_not}; use --engine auto or pytorch")
    return None


def _made(
    generator: nn.Module, multiple: int, style: torch.Tensor | None, kind: str
) -> tuple[Converted | None, str | None]:
    """The `kind` engine for the network, made once per process; else why not."""
    if kind == "mnn" and not mnn_engine.available():
        return None, "MNN is not installed (pip install MNN)"
    if kind == "int8" and not (openvino_engine.available() and int8.quantiser_available()):
        return None, "OpenVINO and ONNX Runtime are needed (pip install openvino onnxruntime)"
    code = b"" if style is None else style.detach().float().cpu().numpy().tobytes()
    made = _MADE.setdefault(generator, {})
    if (code, kind) not in made:
        made[code, kind] = _cached_or_converted(generator, multiple, style, kind)
    if made[code, kind] is None:
        return None, (
            "MNN does not convert this network faithfully (see the cache's .unsupported)"
            if kind == "mnn"
            else f"its int8 version is not within {INT8_MEAN_GREY:g} grey levels and SSIM "
            f"{INT8_SSIM} of fp32 (see the cache's .int8.unsupported)"
        )
    return made[code, kind], None


def _unsuitable(generator: nn.Module) -> str | None:
    if next(generator.parameters()).device.type != "cpu":
        return "the generator is not on the CPU"
    if draws_randomly(generator):
        return "the generator draws random numbers at test time (add --eval-mode)"
    return None


def weights_key(
    generator: nn.Module, multiple: int, style: torch.Tensor | None, kind: str = "mnn"
) -> str:
    """A hash of everything the `kind` converted model depends on."""
    h = hashlib.sha256()
    tools = mnn_engine.mnn_version() if kind == "mnn" else int8.tool_versions()
    versions = (mnn_engine.ENGINE_VERSION, kind, torch.__version__, tools, multiple)
    h.update(repr(versions).encode())
    h.update(repr(generator).encode())  # the layers and their settings
    for name, tensor in generator.state_dict().items():
        h.update(f"{name}{tuple(tensor.shape)}{tensor.dtype}".encode())
        h.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy())
    if style is not None:
        h.update(style.detach().float().cpu().numpy().tobytes())
    return h.hexdigest()[:32]


def _cache_paths(
    generator: nn.Module, multiple: int, style: torch.Tensor | None, kind: str
) -> tuple[Path, Path]:
    """Where the `kind` conversion of these weights is cached, and where a refusal would be."""
    key = weights_key(generator, multiple, style, kind)
    suffix, refused_suffix = mnn_engine.SUFFIXES[kind]
    folder = mnn_engine.cache_dir()
    return folder / f"{key}{suffix}", folder / f"{key}{refused_suffix}"


def _cached_or_converted(
    generator: nn.Module, multiple: int, style: torch.Tensor | None, kind: str
) -> Converted | None:
    model, refused = _cache_paths(generator, multiple, style, kind)
    if refused.is_file():
        return None
    threads = usable_cores()
    if model.is_file() and mnn_engine.description_path(model).is_file():
        try:
            return mnn_engine.load_converted(model, threads)
        except Exception:  # a damaged cache entry is converted again, not reported
            pass
    try:
        problem = (convert if kind == "mnn" else convert_int8)(generator, multiple, style, model)
        if problem is not None:
            write_atomic(refused, lambda f: f.write(problem.encode()))
            return None
        return mnn_engine.load_converted(model, threads)
    except (OSError, GanStyleError):
        return None  # a cache folder that cannot be written, say: PyTorch runs it this time


def convert(
    generator: nn.Module, multiple: int, style: torch.Tensor | None, model: Path
) -> str | None:
    """Convert `generator` to the MNN file `model` (and its description) and check it against
    PyTorch; the reason when it cannot be used, else None. Nothing is left at `model` unless
    the check passed."""
    model.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=model.parent, prefix=".converting-") as tmp:
        onnx_file, mnn_file = Path(tmp) / "g.onnx", Path(tmp) / "g.mnn"
        channels, problem = _export_onnx(generator, style, multiple, onnx_file)
        if problem is not None:
            return problem
        try:
            done = subprocess.run(
                [sys.executable, "-c", _CONVERT, str(onnx_file), str(mnn_file)],
                capture_output=True, text=True, timeout=CONVERT_TIMEOUT_S,
            )  # fmt: skip
        except subprocess.TimeoutExpired:  # recorded: later runs must not wait for it again
            return (f"MNN's converter did not finish within {CONVERT_TIMEOUT_S:g} s (delete "
                    f"this file to try again)")  # fmt: skip
        if done.returncode != 0 or not mnn_file.is_file():
            tail = (done.stdout + done.stderr).strip().splitlines()[-1:] or ["no output"]
            return f"MNN's converter failed: {tail[0]}"
        mnn_engine.describe_converted(mnn_file, multiple, channels)
        converted = MnnGenerator(mnn_file, usable_cores())
        problem = _disagreement(generator, style, converted, channels, max(64, multiple))
        if problem is not None:
            return problem
        mnn_engine.place_converted(mnn_file, model)
    return None


def _export_onnx(
    generator: nn.Module, style: torch.Tensor | None, multiple: int, out: Path
) -> tuple[int, str | None]:
    """The network (with `style` built in) as ONNX for a converter: its input channels, and the
    reason when the exporter cannot write it."""
    # In eval mode like the generator (`_unsuitable`): the exporter sets every module back to
    # the top module's mode afterwards, and a new wrapper is in training mode.
    network = generator if style is None else BakedStyle(generator, style.cpu()).eval()
    channels = input_channels(network)
    size = max(64, multiple)
    example = (torch.rand(1, channels, size, size) * 2 - 1,)
    axes = {0: "batch", 2: "height", 3: "width"}
    try:
        write_onnx(network, example, out, ["image"], {"image": axes, "translated": axes})
    except Exception as e:  # the exporter raises many kinds for graphs it cannot write
        why = str(e).splitlines()[0] if str(e) else type(e).__name__
        return channels, f"ONNX export failed: {why}"
    return channels, None


def convert_int8(
    generator: nn.Module, multiple: int, style: torch.Tensor | None, model: Path
) -> str | None:
    """Quantise `generator` to the int8 ONNX file `model` (`int8.py`, calibrated on probes) and
    check it on OpenVINO against PyTorch; the reason when it misses the bar, else None."""
    model.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=model.parent, prefix=".converting-") as tmp:
        problem = _stage_int8(generator, multiple, style, Path(tmp))
        if problem is not None:
            return problem
        return int8.finish_staged(Path(tmp), model, usable_cores(), INT8_MEAN_GREY, INT8_SSIM)


def stage_int8(
    generator: nn.Module, multiple: int, style: torch.Tensor | None, engine: str
) -> Path | None:
    """For `translate`: what converting to int8 needs PyTorch for, done now, in a folder of the
    cache that `int8.finish_staged` completes in a process without PyTorch; None where
    `cpu_engine` would not try int8 first or has its answer cached already.

    Holding PyTorch and ONNX Runtime's calibration in one process made the first run of a
    checkpoint peak above the reference's script (974 against 841 MiB at 256 px).
    """
    if _unsuitable(generator) is not None or not _int8_wanted(engine):
        return None
    model, refused = _cache_paths(generator, multiple, style, "int8")
    folder = model.parent
    if refused.is_file() or model.is_file():
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _remove_stale_stages(folder)
        staged = Path(tempfile.mkdtemp(dir=folder, prefix=".staged-"))
        problem = _stage_int8(generator, multiple, style, staged)
        if problem is None:
            int8.set_staged_target(staged, model, refused)
            return staged
        write_atomic(refused, lambda f: f.write(problem.encode()))
        shutil.rmtree(staged, ignore_errors=True)
    except OSError:
        pass  # a cache folder that cannot be written: `cpu_engine` decides, as without staging
    return None


STALE_STAGE_S = 3600


def _remove_stale_stages(folder: Path) -> None:
    """Staged conversions left by a run killed before it finished them (the fp32 network is
    most of their size): an hour on, none is still being finished."""
    for stale in folder.glob(".staged-*"):
        with contextlib.suppress(OSError):
            if time.time() - stale.stat().st_mtime > STALE_STAGE_S:
                shutil.rmtree(stale, ignore_errors=True)


def _int8_wanted(engine: str) -> bool:
    """Whether `cpu_engine` tries int8 first with this `--engine` on this machine."""
    if engine not in ("auto", "int8") or not openvino_engine.available():
        return False
    return int8.quantiser_available() and (engine == "int8" or openvino_engine.fast_int8_cpu())


def _stage_int8(
    generator: nn.Module, multiple: int, style: torch.Tensor | None, folder: Path
) -> str | None:
    """Write what the int8 conversion takes from PyTorch into `folder`: the network as ONNX, and
    the check's probes with PyTorch's outputs on them. The reason when it cannot, else None."""
    channels, problem = _export_onnx(generator, style, multiple, folder / int8.STAGED_FP32)
    if problem is not None:
        return problem
    size = max(INT8_PROBE_SIDE, multiple)
    probes = _probe_outputs(generator, style, channels, size, multiple, leaves_probe)
    int8.write_staged(folder, multiple, channels, probes)
    return None


# MNN's converter, called without `MNN.tools`: importing that package runs `pip install` of a
# logging SDK and sends each conversion's details to a server of its authors.
_CONVERT = (
    "import sys, _tools; onnx, out = sys.argv[1:]; _tools.mnnconvert(['mnnconvert', '-f', "
    "'ONNX', '--modelFile', onnx, '--MNNModel', out, '--bizCode', 'gan_style'])"
)


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


def _disagreement(
    generator: nn.Module,
    style: torch.Tensor | None,
    converted: MnnGenerator,
    channels: int,
    size: int,
) -> str | None:
    for probe, expected in _probe_outputs(
        generator, style, channels, size, converted.multiple, smooth_probe
    ):
        got, (h, w) = converted.translate(probe), probe.shape[:2]
        difference = np.abs(expected.astype(np.float32) - got.astype(np.float32)) / 127.5
        if difference.max() > MAX_DIFFERENCE or difference.mean() > MEAN_DIFFERENCE:
            return (
                f"MNN's output differs from PyTorch's at {h}x{w}: {difference.max():.4f} at most, "
                f"{difference.mean():.5f} on average (limits {MAX_DIFFERENCE}, {MEAN_DIFFERENCE})"
            )
    return None
