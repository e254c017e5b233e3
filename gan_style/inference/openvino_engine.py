"""Running int8 generators (`int8.py`) on OpenVINO, Intel's inference engine, on the CPU,
without PyTorch.

Why OpenVINO: it turns an int8 file's quantise/dequantise pairs into int8 convolutions. On
the 2-core Intel Xeon (Ice Lake, AVX-512 VNNI) development machine the paper generator's int8
file took 0.14 s per 256 px image on OpenVINO and 0.53 s on ONNX Runtime, which runs it
when OpenVINO is not installed (`open_exported`).

`import openvino` sends a usage event to Intel's analytics unless the user opted out; this
module imports it with its telemetry package hidden, so that OpenVINO's own no-op stand-in
is used (`import_openvino`).
"""

from __future__ import annotations

import functools
import queue
from pathlib import Path
from typing import Any

import numpy as np

from gan_style.errors import CheckpointError
from gan_style.inference.onnx_engine import (
    DIRECTION_KEY,
    INT8_KEY,
    MULTIPLE_KEY,
    OnnxGenerator,
    translate_padded,
)

# Images in flight at most (`streams_for`): measured on 2 cores only, and each stream holds its
# own activations.
MAX_STREAMS = 2


def available() -> bool:
    try:
        import_openvino()
    except ImportError:
        return False
    return True


def import_openvino() -> Any:  # OpenVINO's Python package has no type information
    """`import openvino` without its telemetry: a None entry in `sys.modules` makes importing
    `openvino_telemetry` fail, and OpenVINO then uses its own no-op stub."""
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


def fast_int8_cpu(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether this CPU has 8-bit dot products (AVX-512 VNNI or AVX-VNNI), where int8 is what
    makes translation fast; elsewhere fp32 MNN is the default (int8 unmeasured there).
    GAN_STYLE_INT8_CPU=1 or 0 overrides the detection (the test suite sets 0)."""
    import os

    if os.environ.get("GAN_STYLE_INT8_CPU") in ("0", "1"):
        return os.environ["GAN_STYLE_INT8_CPU"] == "1"
    try:
        with open(cpuinfo) as f:
            flags = next((line for line in f if line.startswith("flags")), "").split()
    except OSError:
        return False
    return "avx512_vnni" in flags or "avx_vnni" in flags


def load(path: Path, threads: int, streams: int = 1) -> OpenVinoGenerator:
    """An int8 file as a generator on OpenVINO (an error if it is not one)."""
    model = int8_model(path)
    if model is None:
        raise CheckpointError(
            f"{path} is not an int8 file of gan-style; delete it to convert again"
        )
    return OpenVinoGenerator(model, path, threads, streams)


def streams_for(images: int, cores: int) -> int:
    """Images in flight for a folder of `images`: one per core, up to `MAX_STREAMS`, when
    there are several (`OpenVinoGenerator`); a single image gets every core."""
    return max(1, min(MAX_STREAMS, cores, images))


def open_exported(path: Path, threads: int) -> OnnxGenerator | OpenVinoGenerator:
    """The runtime for an exported file: an int8 file on OpenVINO where it is installed, any
    other file (and an int8 one without OpenVINO) on ONNX Runtime. ONNX Runtime opens it first
    and reads its metadata: parsing an fp32 file with OpenVINO only to find it is not int8 took
    0.19-0.30 s of the fp32 path's start-up."""
    generator = OnnxGenerator(path, threads)
    return load(path, threads) if generator.int8 and available() else generator


def int8_model(path: Path) -> Any | None:
    """The file as an OpenVINO model if it is an int8 export and OpenVINO is installed."""
    if not available() or not path.is_file():
        return None
    try:
        model = core().read_model(str(path))
    except RuntimeError:
        return None  # ONNX Runtime then reports what is wrong with the file
    return model if _metadata(model, INT8_KEY) is not None else None


def _metadata(model: Any, key: str) -> str | None:
    try:
        return str(model.get_rt_info(["framework", key]).astype(str))
    except (RuntimeError, KeyError):
        return None


class OpenVinoGenerator:
    """One int8 generator compiled for any image size (compiled for one size it ran no faster:
    0.15-0.19 against 0.16-0.20 s per 256 px image, 4 rounds, and compiling takes 0.46 s a
    size), on `threads` cores.

    `streams` above 1: that many images in flight, each on its own share of the cores, called
    from as many threads (`lanes`). On the 2-core development CPU two streams of one core took
    0.21-0.23 s per 256 px image where one image on both cores took 0.23-0.25 s (4 paired
    rounds), and 0.97 against 1.05 s at 512 px (2 rounds), as the threads of one image wait
    for each other between layers. One stream stays the default: it puts every core on one
    image, which is what the web page and a single photo wait for."""

    label = "OpenVINO int8"  # in progress lines

    def __init__(self, model: Any, path: Path, threads: int, streams: int = 1) -> None:
        self.path = path
        multiple = _metadata(model, MULTIPLE_KEY)
        if multiple is None or len(model.inputs) != 1:
            raise CheckpointError(
                f"{path} was not written by gan-style export --int8; export the checkpoint "
                f"again with gan-style export RUN --format onnx --int8"
            )
        self.multiple = int(multiple)
        self.direction = _metadata(model, DIRECTION_KEY) or "AtoB"
        self.channels = int(model.inputs[0].get_partial_shape()[1].get_length())
        self.lanes = max(1, streams)
        config: dict[str, Any] = {"INFERENCE_NUM_THREADS": max(1, threads)}
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
        """An HxWxC uint8 image through the network; the output has the input's size."""
        return translate_padded(image, self.multiple, self.forward)
