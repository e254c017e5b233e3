"""The ONNX files gan-style writes (`export`, the engine's conversions): the metadata that says
how to feed them. Reading it needs no PyTorch."""

from __future__ import annotations

import json
from pathlib import Path

# Written into the file's metadata (these keys are the file format).
MULTIPLE_KEY = "gan_style.multiple"  # input sides must be multiples of this
DIRECTION_KEY = "gan_style.direction"  # AtoB or BtoA
INT8_KEY = "gan_style.int8"  # an int8 file: its agreement with fp32, as JSON
BF16_KEY = "gan_style.bf16"  # an fp32 file run in bf16: its agreement with fp32, as JSON


def describe_onnx(path: Path, properties: dict[str, str]) -> None:
    """Set an ONNX file's metadata (what a runtime needs to feed it: the keys above)."""
    import onnx

    model = onnx.load(str(path))
    onnx.helper.set_model_props(model, properties)
    onnx.save(model, str(path))


def read_metadata(path: Path) -> dict[str, str]:
    """An ONNX file's metadata, without its weights."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return {p.key: p.value for p in model.metadata_props}


def read_agreement(path: Path, key: str = INT8_KEY) -> dict:
    """What an int8 (or, with BF16_KEY, a bf16) file measured against fp32 (`int8.metadata`)."""
    return json.loads(read_metadata(path)[key])
