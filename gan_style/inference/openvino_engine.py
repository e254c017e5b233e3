"""Generators exported to ONNX (fp32 or int8) on OpenVINO, Intel's inference engine for CPUs,
without PyTorch: `gan-style translate G.onnx`, and the engine's cached conversions.

OpenVINO reads ONNX files itself and turns an int8 file's quantise/dequantise pairs into int8
convolutions.
"""

from __future__ import annotations

import functools
import queue
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from gan_style.errors import CheckpointError, ConfigError
from gan_style.inference.onnx_file import DIRECTION_KEY, INT8_KEY, MULTIPLE_KEY
from gan_style.inference.pixels import translate_padded

# Steps in NumPy a model puts around its network (colorization's colour conversions): called
# with the network's input as the model sees it and the network on arrays.
Around = Callable[[np.ndarray, Callable[[np.ndarray], np.ndarray]], np.ndarray]
# Images in flight at most for a folder (`streams_for`); each stream holds its own activations.
MAX_STREAMS = 2
INSTALL_HINT = "pip install 'gan-style[cpu]' (make install includes it)"


def available() -> bool:
    """Whether OpenVINO is installed (it comes with the `cpu` extra)."""
    try:
        import_openvino()
    except ImportError:
        return False
    return True


def import_openvino() -> Any:  # OpenVINO's Python package has no type information
    """`import openvino` without its usage reports. Importing it sends an event to Intel's
    analytics and writes a client id under ~/intel, through its model-conversion tool's
    `openvino_telemetry`; where that package cannot be imported, OpenVINO uses its own no-op
    stand-in, as it does when the package is not installed. A None entry in `sys.modules`
    makes the import fail, for this import only."""
    import sys

    hidden = "openvino_telemetry" not in sys.modules
    if hidden:
        sys.modules["openvino_telemetry"] = None  # type: ignore[assignment]
    try:
        import openvino
    finally:
        if hidden:
            del sys.modules["openvino_telemetry"]
    return openvino


@functools.cache
def core() -> Any:
    """One OpenVINO core per process: each core starts its own pools of threads."""
    return import_openvino().Core()


def streams_for(images: int, cores: int) -> int:
    """Images in flight for a folder of `images`: one per core, up to `MAX_STREAMS`, when
    there are several; a single image gets every core."""
    return max(1, min(MAX_STREAMS, cores, images))


class OpenVinoGenerator:
    """One exported generator compiled for any image size on `threads` cores.

    `streams` above 1: that many images in flight, each on its own share of the cores, called
    from as many threads (`lanes`); a single image, or the web page's one photo, gets every
    core on one stream. Layers that stay fp32 compute in fp32 on every CPU (OpenVINO would
    pick bf16 on CPUs with AMX), so outputs depend on the file and the stream count only.
    """

    def __init__(self, path: Path, threads: int, streams: int = 1) -> None:
        if not available():
            raise ConfigError(f"running {path.name} needs OpenVINO: {INSTALL_HINT}")
        if not path.is_file():
            raise CheckpointError(f"{path} not found; write one with gan-style export RUN")
        self.path = path
        try:
            model = core().read_model(str(path))
        except RuntimeError as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise CheckpointError(
                f"{path} is not a readable ONNX model ({first}); export it again with "
                f"gan-style export"
            ) from None
        multiple = _metadata(model, MULTIPLE_KEY)
        if multiple is None:
            raise CheckpointError(
                f"{path} was not written by gan-style export (no {MULTIPLE_KEY} in its "
                f"metadata); export the checkpoint again with gan-style export RUN --format onnx"
            )
        if len(model.inputs) != 1:
            raise ConfigError(
                f"{path} takes a style code as a second input; export it for one style "
                f"(--style NAME) to translate with it"
            )
        self.multiple = int(multiple)
        self.direction = _metadata(model, DIRECTION_KEY) or "AtoB"
        self.int8 = _metadata(model, INT8_KEY) is not None
        self.label = "OpenVINO int8" if self.int8 else "OpenVINO"  # in progress lines
        self.channels = int(model.inputs[0].get_partial_shape()[1].get_length())
        self.lanes = max(1, streams)
        self.around: Around | None = None  # set by `engines` for such a model
        config: dict[str, Any] = {
            "INFERENCE_NUM_THREADS": max(1, threads),
            "INFERENCE_PRECISION_HINT": "f32",
        }
        if self.lanes > 1:
            config |= {"PERFORMANCE_HINT": "THROUGHPUT", "NUM_STREAMS": self.lanes}
        else:
            config |= {"PERFORMANCE_HINT": "LATENCY"}
        compiled = core().compile_model(model, "CPU", config)
        # An infer request runs one call at a time: callers (lanes, the web page's buttons)
        # take a free one, and wait while all are busy.
        self.requests: queue.SimpleQueue[Any] = queue.SimpleQueue()
        for _ in range(self.lanes):
            self.requests.put(compiled.create_infer_request())

    def forward(self, x: np.ndarray) -> np.ndarray:
        """A 1xCxHxW float32 array through the network (H and W multiples of `multiple`)."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        request = self.requests.get()
        try:
            return np.array(request.infer({0: x})[0], copy=True)
        finally:
            self.requests.put(request)

    def translate(self, image: np.ndarray) -> np.ndarray:
        """An HxWxC uint8 image through the network (and the steps `around` it); the output
        has the input's size."""
        if self.around is None:
            return translate_padded(image, self.multiple, self.forward)
        around = self.around
        return translate_padded(image, self.multiple, lambda x: around(x, self.forward))


def _metadata(model: Any, key: str) -> str | None:
    try:
        return str(model.get_rt_info(["framework", key]).astype(str))
    except (RuntimeError, KeyError):
        return None
