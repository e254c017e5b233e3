"""Generators exported to ONNX (fp32 or int8) on OpenVINO, Intel's inference engine for CPUs,
without PyTorch: `gan-style translate G.onnx`, and the engine's cached conversions.

OpenVINO reads ONNX files itself and turns an int8 file's quantise/dequantise pairs into int8
convolutions.
"""

from __future__ import annotations

import functools
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from gan_style.errors import CheckpointError, ConfigError
from gan_style.inference.onnx_file import BF16_KEY, DIRECTION_KEY, INT8_KEY, MULTIPLE_KEY
from gan_style.inference.pixels import translate_padded

# Steps in NumPy a model puts around its network (colorization's colour conversions): called
# with the network's input as the model sees it and the network on arrays.
Around = Callable[[np.ndarray, Callable[[np.ndarray], np.ndarray]], np.ndarray]
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


class OpenVinoGenerator:
    """One exported generator compiled for any image size on `threads` cores.

    `streams` above 1 (`translate --lanes N` of an exported file): that many images in flight,
    each on its own share of the cores, called from as many threads (`lanes`). The default is
    one image at a time on every core: two streams were about 5% faster for folders, but a run
    with two images in flight once hung inside OpenVINO. Layers that stay fp32 compute in fp32
    on every CPU (OpenVINO would pick bf16 on CPUs with AMX), unless the file's metadata asks
    for bf16 (`BF16_KEY`, the bf16 conversion), so outputs depend on the file and the stream
    count only.
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
        self.bf16 = _metadata(model, BF16_KEY) is not None
        precision = " int8" if self.int8 else " bf16" if self.bf16 else ""
        self.label = f"OpenVINO{precision}"  # in progress lines
        self.channels = int(model.inputs[0].get_partial_shape()[1].get_length())
        self.upscale = _upscale(model, self.multiple)
        self.lanes = max(1, streams)
        self.around: Around | None = None  # set by `engines` for such a model
        config: dict[str, Any] = {
            "INFERENCE_NUM_THREADS": max(1, threads),
            "INFERENCE_PRECISION_HINT": "bf16" if self.bf16 else "f32",
        }
        if self.lanes > 1:
            config |= {"PERFORMANCE_HINT": "THROUGHPUT", "NUM_STREAMS": self.lanes}
        else:
            config |= {"PERFORMANCE_HINT": "LATENCY"}
        compiled = core().compile_model(model, "CPU", config)
        self._tensor = import_openvino().Tensor
        self._handover = threading.Lock()
        # An infer request runs one call at a time: callers (lanes, the web page's buttons)
        # take a free one, and wait while all are busy.
        self.requests: queue.SimpleQueue[Any] = queue.SimpleQueue()
        for _ in range(self.lanes):
            self.requests.put(compiled.create_infer_request())

    def forward(self, x: np.ndarray) -> np.ndarray:
        """A 1xCxHxW float32 array through the network (H and W multiples of `multiple`).

        Inputs are handed over and outputs read one thread at a time, and only the inference
        runs in parallel: two threads copying images into their requests at once (through
        `InferRequest.infer`'s input copy) were seen to deadlock."""
        tensor = self._tensor(np.ascontiguousarray(x, dtype=np.float32))  # a copy of `x`
        request = self.requests.get()
        try:
            with self._handover:
                request.set_input_tensor(tensor)
            request.infer()
            with self._handover:
                return np.array(request.get_output_tensor(0).data, copy=True)
        finally:
            self.requests.put(request)

    def translate(self, image: np.ndarray) -> np.ndarray:
        """An HxWxC uint8 image through the network (and the steps `around` it); the output
        has the input's size, times `upscale` for an enlarger."""
        if self.around is None:
            return translate_padded(image, self.multiple, self.forward)
        around = self.around
        return translate_padded(image, self.multiple, lambda x: around(x, self.forward))


def _upscale(model: Any, multiple: int) -> int:
    """How many times larger than its input the network's output is, from OpenVINO's shape
    inference on a copy of the model given one small input size (nothing is computed)."""
    side = max(16, multiple)
    probe = model.clone()
    probe.reshape({probe.inputs[0]: [1, int(model.inputs[0].get_partial_shape()[1].get_length()),
                                     side, side]})  # fmt: skip
    height = probe.outputs[0].get_partial_shape()[2]
    return height.get_length() // side if height.is_static else 1


def _metadata(model: Any, key: str) -> str | None:
    try:
        return str(model.get_rt_info(["framework", key]).astype(str))
    except (RuntimeError, KeyError):
        return None
