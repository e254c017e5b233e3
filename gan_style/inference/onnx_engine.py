"""Translating with a generator exported by `gan-style export --format onnx`, on ONNX Runtime.

Nothing here imports PyTorch: on the 2-core development CPU `import torch` alone took 2.4-3.9 s,
longer than translating one 256 px image end to end this way. The images go through the same
steps as `translation.translate_batch` (reflection padding to the network's multiple, [-1, 1]
floats, rounding back to 8 bits), so the outputs match PyTorch's within rounding.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from gan_style.errors import CheckpointError, ConfigError
from gan_style.inference.padding import pads

# Written into the ONNX file's metadata by `export` (these keys are the file format).
MULTIPLE_KEY = "gan_style.multiple"
DIRECTION_KEY = "gan_style.direction"
INT8_KEY = "gan_style.int8"  # written by `export --int8`: its agreement with fp32, as JSON


class OnnxGenerator:
    """One exported generator in an ONNX Runtime session of `threads` intra-op threads.

    A session may run from several threads at once; with one thread each, every caller does
    its own work on its own core (the lanes of `runtime/lanes.py`).
    """

    label = "ONNX Runtime"  # in progress lines

    def __init__(self, path: Path, threads: int = 1) -> None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise ConfigError(
                "translating an .onnx file needs ONNX Runtime: pip install onnxruntime"
            ) from None
        if not path.is_file():
            raise CheckpointError(f"{path} not found; write one with gan-style export RUN")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3  # its warnings concern the graph, not the user
        try:
            self.session = ort.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as e:  # ONNX Runtime raises its own classes for any unreadable file
            raise CheckpointError(
                f"{path} is not a readable ONNX model ({e}); export it again with gan-style export"
            ) from None
        meta = self.session.get_modelmeta().custom_metadata_map
        if MULTIPLE_KEY not in meta:
            raise CheckpointError(
                f"{path} was not written by gan-style export (no {MULTIPLE_KEY} in its "
                f"metadata); export the checkpoint again with gan-style export RUN --format onnx"
            )
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            raise ConfigError(
                f"{path} takes a style code as a second input; export it for one style "
                f"(--style NAME) to translate with it"
            )
        self.input_name = inputs[0].name
        self.channels = int(inputs[0].shape[1])
        self.multiple = int(meta[MULTIPLE_KEY])
        self.direction = meta.get(DIRECTION_KEY, "AtoB")
        self.int8 = INT8_KEY in meta  # OpenVINO runs such a file faster (`openvino_engine`)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """A 1xCxHxW float32 array through the network (H and W multiples of `multiple`)."""
        return self.session.run(None, {self.input_name: x})[0]

    def translate(self, image: np.ndarray) -> np.ndarray:
        """An HxWxC uint8 image through the network; the output has the input's size."""
        return translate_padded(image, self.multiple, self.forward)


def translate_padded(
    image: np.ndarray, multiple: int, network: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """An HxWxC uint8 image through `network` (1xCxHxW float32 arrays in [-1, 1], sides a
    multiple of `multiple`), padded and cropped as `translation.translate_batch` does, for the
    engines that run without PyTorch (ONNX Runtime, MNN)."""
    h, w = image.shape[:2]
    return to_uint8(network(network_input(image, multiple))[0, :, :h, :w])


def network_input(image: np.ndarray, multiple: int) -> np.ndarray:
    """An HxWxC uint8 image as the 1xCxHxW float32 array in [-1, 1] a network sees, padded as
    `translation.translate_batch` pads (the output is cropped back to the image)."""
    pad_h, pad_w, reflect = pads(image.shape[0], image.shape[1], multiple)
    x = image.astype(np.float32).transpose(2, 0, 1)[None] / np.float32(127.5) - np.float32(1)
    mode = "reflect" if reflect else "edge"
    return np.pad(x, ((0, 0), (0, 0), (0, pad_h), (0, pad_w)), mode=mode)


def to_uint8(y: np.ndarray) -> np.ndarray:
    """A CxHxW network output in [-1, 1] as an HxWxC 8-bit image, rounded half to even as
    `translation.translate_batch` rounds on the tensor, so both engines' files agree."""
    y = np.rint((y + np.float32(1)) * np.float32(127.5))
    return np.clip(y, 0, 255).astype(np.uint8).transpose(1, 2, 0)


def describe_onnx(path: Path, properties: dict[str, str]) -> None:
    """Set an ONNX file's metadata (what a runtime needs to feed it: the keys above)."""
    import onnx

    model = onnx.load(str(path))
    onnx.helper.set_model_props(model, properties)
    onnx.save(model, str(path))
