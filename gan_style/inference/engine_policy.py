"""Which engine runs a generator, decided in one place and without PyTorch (so `translate` can
decide before loading it): the `--engine` names, the CPU's kind, and the options that leave
the converted engine usable.

`--engine` auto runs the generator's conversion on OpenVINO, kept within a bar of PyTorch's
output (`int8.py`), where the `cpu` extra is installed: in bf16 on CPUs with AMX (its matrix
units run bf16 twice as fast as int8, and nearer fp32), in int8 elsewhere; PyTorch where the
extra is missing, or where the network misses the bar. `openvino` asks for the fp32
conversion, `int8` and `bf16` for those, `pytorch` for PyTorch. docs/performance.md has the
measurements behind the choice.
"""

from __future__ import annotations

import sys

from gan_style.cpu import has_amx
from gan_style.errors import ConfigError
from gan_style.inference import openvino_engine
from gan_style.inference.openvino_engine import INSTALL_HINT

ENGINES = ("auto", "pytorch", "openvino", "int8", "bf16")  # `--engine`'s choices
OLD_NAMES = {"mnn": "openvino"}  # accepted, with a note: MNN was replaced by OpenVINO
DEFAULT_ENGINE = "auto"
CONVERSION = {"openvino": "fp32", "int8": "int8", "bf16": "bf16"}  # what each engine runs


def renamed(engine: str) -> str:
    """An `--engine` value under its present name; an old name says what replaced it."""
    if engine in OLD_NAMES:
        print(f"note: --engine {engine} is now --engine {OLD_NAMES[engine]}", file=sys.stderr)
        return OLD_NAMES[engine]
    return engine


def engine_name(engine: str | None) -> str:
    """`engine` as one of ENGINES (None: the default)."""
    engine = engine or DEFAULT_ENGINE
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine '{engine}'; choose {', '.join(ENGINES)}")
    return engine


_hinted = False


def conversion_kind(engine: str | None) -> str | None:
    """The conversion `engine` runs (fp32, int8, bf16), or None for PyTorch. Without the CPU
    engine installed, auto says once how to get it."""
    global _hinted
    engine = engine_name(engine)
    if engine != "auto":
        return CONVERSION.get(engine)
    if not openvino_engine.available():
        if not _hinted:
            print(f"note: translating on PyTorch; for the faster CPU engine: {INSTALL_HINT}",
                  file=sys.stderr)  # fmt: skip
            _hinted = True
        return None
    return "bf16" if has_amx() else "int8"


def whole_images_only(
    engine: str, *, tile: int = 0, batch_size: int | None = None, lanes: int | None = None
) -> bool:
    """Whether these options leave the converted engine usable (it translates whole images one
    at a time and sets its own images in flight); asking for it by name with them is an error."""
    fits = not tile and batch_size in (None, 1) and lanes is None
    if not fits and engine_name(engine) in CONVERSION:
        raise ConfigError(
            f"--engine {engine} translates whole images one at a time; drop --tile, "
            f"--batch-size and --lanes, or use --engine pytorch"
        )
    return fits


def cpu_only_machine() -> bool:
    """Whether `--device auto` can only mean the CPU here, decided without PyTorch: no NVIDIA,
    AMD or WSL GPU device node and no Apple-silicon Mac (MPS). Where unsure, PyTorch decides."""
    import os
    import platform

    if sys.platform == "darwin" and platform.machine() == "arm64":
        return False
    nodes = ("/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd", "/dev/dxg")
    return not any(os.path.exists(node) for node in nodes)
