"""Translating with a generator converted for MNN, Alibaba's inference engine, on the CPU.

Why MNN: its 3x3 convolutions are Winograd convolutions whose transformed kernels are made
once, when the model loads. PyTorch's NNPACK binding transforms every kernel again on every
call (a fifth of those layers' time), and oneDNN and ONNX Runtime have no Winograd path on AVX2
CPUs. On the 2-core development CPU one 256-channel 3x3 layer at 64x64 took 21 ms in MNN
against 27-37 ms in NNPACK on one core (README "Translating on an ordinary CPU").

Nothing here imports PyTorch, so a converted model that is already in the cache
(`engines.py`) translates without starting PyTorch at all. Images go through the same steps as
`translation.translate_batch` (reflection padding to the network's multiple, [-1, 1] floats,
rounding back to 8 bits: `onnx_engine.translate_padded`), so outputs match PyTorch's within
rounding.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gan_style.errors import CheckpointError, ConfigError
from gan_style.inference.onnx_engine import translate_padded
from gan_style.runtime import files
from gan_style.runtime.checkpoint_names import resolve

if TYPE_CHECKING:
    from gan_style.inference.openvino_engine import OpenVinoGenerator

# The description written next to each converted model (its keys are the cache's format).
MULTIPLE_KEY = "multiple"
CHANNELS_KEY = "channels"
ENGINES = ("auto", "pytorch", "mnn", "int8")  # `--engine`'s choices
ENGINE_VERSION = 4  # raised when what is converted, or how, changes: old conversions are redone
# Per kind of converted model: its file's suffix, and the one marking a network it does not
# convert faithfully (`engines.py`).
SUFFIXES = {"mnn": (".mnn", ".unsupported"), "int8": (".int8.onnx", ".int8.unsupported")}


def default_engine() -> str:
    """`--engine`'s default: GAN_STYLE_ENGINE if set (the test suite pins PyTorch), else auto."""
    engine = os.environ.get("GAN_STYLE_ENGINE", "auto")
    if engine not in ENGINES:
        raise ConfigError(f"GAN_STYLE_ENGINE={engine} is not an engine; use {', '.join(ENGINES)}")
    return engine


def cpu_only_machine() -> bool:
    """Whether `--device auto` can only mean the CPU here, decided without PyTorch: no NVIDIA,
    AMD or WSL GPU device node and no Apple-silicon Mac (MPS). Where unsure, PyTorch decides."""
    import platform
    import sys

    if sys.platform == "darwin" and platform.machine() == "arm64":
        return False
    nodes = ("/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd", "/dev/dxg")
    return not any(os.path.exists(node) for node in nodes)


def available() -> bool:
    """Whether MNN can be imported (it is a dependency; a broken install falls back to PyTorch)."""
    try:
        _import_mnn()
    except ImportError:
        return False
    return True


def _import_mnn() -> Any:  # MNN has no type information
    # MNN prints the CPU's features on import; they do not concern users.
    with _quiet_stdout():
        import MNN
        import MNN.expr
        import MNN.nn
    return MNN


class _quiet_stdout:
    """Silence file descriptor 1 around C++ code that prints to it."""

    def __enter__(self) -> None:
        import sys

        sys.stdout.flush()
        self.saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)

    def __exit__(self, *exc: object) -> None:
        os.dup2(self.saved, 1)
        os.close(self.saved)


def description_path(model: Path) -> Path:
    return model.with_suffix(".json")


def describe_converted(made: Path, multiple: int, channels: int) -> None:
    """The description a converted model is loaded with (the cache's format)."""
    description_path(made).write_text(json.dumps({MULTIPLE_KEY: multiple, CHANNELS_KEY: channels}))


def place_converted(made: Path, model: Path) -> None:
    """Move a checked model and its description into the cache."""
    os.replace(made, model)  # the model first: without its description it is not used
    os.replace(description_path(made), description_path(model))


def cache_dir() -> Path:
    """Converted models (a few tens of MB each); delete the folder to convert them again."""
    return files.cache_dir() / "mnn"


def mnn_version() -> str:
    return str(_import_mnn().version())


def load_converted(model: Path, threads: int, images: int = 1) -> MnnGenerator | OpenVinoGenerator:
    """A converted model from the cache, by its suffix: int8 on OpenVINO (with images in
    flight for a folder of `images`), else MNN."""
    from gan_style.inference import openvino_engine

    if model.name.endswith(SUFFIXES["int8"][0]):
        return openvino_engine.load(model, threads, openvino_engine.streams_for(images, threads))
    return MnnGenerator(model, threads)


class FileIndex:
    """Which converted model a checkpoint file gave `translate` with given options, by a hash of
    the file's bytes: found without PyTorch, so a second `translate` need not start it.

    An entry is only a shortcut: a missing, stale or damaged one means PyTorch loads the
    checkpoint as it would without the cache.
    """

    def __init__(self, checkpoint: Path, options: dict[str, object]) -> None:
        source = resolve(checkpoint)
        digest = hashlib.sha256(json.dumps([ENGINE_VERSION, options], sort_keys=True).encode())
        with open(source, "rb") as f:
            while chunk := f.read(1 << 22):
                digest.update(chunk)
        self.path = cache_dir() / "files" / f"{digest.hexdigest()[:32]}.json"

    def lookup(self) -> Path | None:
        """The converted model recorded for this file, if it and its description are there."""
        try:
            model = cache_dir() / json.loads(self.path.read_text())["model"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return model if model.is_file() and description_path(model).is_file() else None

    def record(self, model: Path) -> None:
        entry = json.dumps({"model": model.name}).encode()
        files.write_atomic(self.path, lambda f: f.write(entry))


class MnnGenerator:
    """One converted generator on `threads` CPU threads.

    MNN holds Python's lock while it computes, so several images in flight (lanes) gain nothing
    here: one image at a time uses every core instead.
    """

    label = "MNN"  # in progress lines
    lanes = 1  # images in flight (see above)

    def __init__(self, path: Path, threads: int = 1) -> None:
        mnn = _import_mnn()
        described = description_path(path)
        try:
            meta = json.loads(described.read_text())
            self.multiple = int(meta[MULTIPLE_KEY])
            self.channels = int(meta[CHANNELS_KEY])
        except (OSError, ValueError, KeyError, TypeError):
            raise CheckpointError(
                f"{described} is missing or unreadable; delete {path.parent} to convert again"
            ) from None
        self.path = path
        config = {"backend": "CPU", "precision": "high", "numThread": max(1, threads)}
        with _quiet_stdout():
            runtime = mnn.nn.create_runtime_manager((config,))
            self.module = mnn.nn.load_module_from_file(
                str(path), ["image"], ["translated"], runtime_manager=runtime
            )
        if self.module is None:
            raise CheckpointError(f"{path} is not a readable MNN model; delete it to convert again")
        self._expr = mnn.expr

    def forward(self, x: np.ndarray) -> np.ndarray:
        """A 1xCxHxW float32 array through the network (H and W multiples of `multiple`)."""
        F = self._expr
        x = np.ascontiguousarray(x, dtype=np.float32)
        (y,) = self.module.forward([F.const(x, list(x.shape), F.NCHW)])
        return np.array(F.convert(y, F.NCHW).read(), dtype=np.float32, copy=True)

    def translate(self, image: np.ndarray) -> np.ndarray:
        """An HxWxC uint8 image through the network; the output has the input's size."""
        return translate_padded(image, self.multiple, self.forward)
