"""The one door to the CPU engine for a loaded generator: its conversion on OpenVINO where
`engine_policy` says so (converted once per weights and cached), else PyTorch. `translate`,
evaluation, galleries, the web page and the benchmark all translate through here."""

from __future__ import annotations

import sys
import weakref

import numpy as np
import torch
from torch import nn

from gan_style.errors import CheckpointError, ConfigError
from gan_style.inference import openvino_engine
from gan_style.inference.conversion import cached_conversion
from gan_style.inference.engine_policy import conversion_kind, engine_name
from gan_style.inference.openvino_engine import INSTALL_HINT, OpenVinoGenerator
from gan_style.inference.translation import draws_randomly, translate_images
from gan_style.networks.generators import strength_of
from gan_style.runtime.lanes import usable_cores

# Engines already made in this process, by network, style code, kind and strength: hashing the
# weights again for every batch a gallery or an evaluation translates would cost 50 ms a time.
_MADE: weakref.WeakKeyDictionary[nn.Module, dict[tuple, OpenVinoGenerator | str]] = (
    weakref.WeakKeyDictionary()
)


def converted_engine(
    generator: nn.Module,
    multiple: int,
    style: torch.Tensor | None = None,
    engine: str | None = None,
    precision: str = "fp32",
) -> OpenVinoGenerator | None:
    """The generator's conversion (with `style` built in) on OpenVINO, or None where PyTorch
    runs it: `engine` pytorch, or auto without the CPU engine installed, a `precision` other
    than fp32, a generator off the CPU, one that draws random numbers at test time, or one
    whose conversion missed its bar (said once). An engine asked for by name that cannot run
    it is an error."""
    kind = conversion_kind(engine)
    if kind is None or precision != "fp32":
        return None
    why_not = _unsuitable(generator) or _missing_tools(kind)
    if why_not is None:
        code = b"" if style is None else style.detach().float().cpu().numpy().tobytes()
        key = (code, kind, strength_of(generator))
        made = _MADE.setdefault(generator, {})
        if key not in made:
            made[key] = _engine_for(generator, multiple, style, kind)
        if isinstance(made[key], OpenVinoGenerator):
            return made[key]
        why_not = made[key]
    if engine_name(engine) != "auto":
        raise ConfigError(f"--engine {engine}: {why_not}; use --engine auto or pytorch")
    if why_not not in _SAID and not why_not.startswith(ON_ANOTHER_DEVICE):
        _SAID.add(why_not)
        print(f"note: translating on PyTorch: {why_not}", file=sys.stderr)
    return None


ON_ANOTHER_DEVICE = "the generator is not on the CPU"  # nothing to say: the CPU engine is for CPUs
_SAID: set[str] = set()  # reasons already given in this process: each is said once


def _engine_for(
    generator: nn.Module, multiple: int, style: torch.Tensor | None, kind: str
) -> OpenVinoGenerator | str:
    """The engine for the generator; a model that wraps its network in steps of its own on
    arrays (`around`, colorization's colour conversions) has its network converted, and the
    steps run around it."""
    around = getattr(generator, "around", None)
    made = _load(generator.network if around else generator, multiple, style, kind)
    if around and isinstance(made, OpenVinoGenerator):
        made.around, made.channels = around, generator.image_channels
    return made


def _load(
    generator: nn.Module, multiple: int, style: torch.Tensor | None, kind: str
) -> OpenVinoGenerator | str:
    """The cached or new conversion, compiled; else why not. A cache entry that does not load
    (damaged, say) is converted again once."""
    for fresh in (False, True):
        try:
            model, why_not = cached_conversion(generator, multiple, style, kind, fresh)
        except OSError as e:  # a cache folder that cannot be written: PyTorch runs it
            return f"the engine's cache cannot be written ({e.strerror})"
        if model is None:
            return why_not or "not converted"
        try:
            return OpenVinoGenerator(model, usable_cores())
        except (CheckpointError, RuntimeError):
            continue
    return "its conversion does not load"


def _unsuitable(generator: nn.Module) -> str | None:
    if next(generator.parameters()).device.type != "cpu":
        return ON_ANOTHER_DEVICE
    if draws_randomly(generator):
        return "the generator draws random numbers at test time (add --eval-mode)"
    return None


def _missing_tools(kind: str) -> str | None:
    from gan_style.inference import int8

    if not openvino_engine.available() or (kind == "int8" and not int8.quantiser_available()):
        return f"the CPU engine is not installed ({INSTALL_HINT})"
    return None


def translate_arrays(
    generator: nn.Module,
    images: list[np.ndarray],
    multiple: int,
    batch_size: int | None = None,
    style: torch.Tensor | None = None,
    engine: str | None = None,
    precision: str = "fp32",
) -> list[np.ndarray]:
    """HxWxC uint8 images translated by the engine `converted_engine` picks for one image at a
    time, else by PyTorch (`translation.translate_images`); each output has its input's size."""
    if batch_size in (None, 1):
        converted = converted_engine(generator, multiple, style, engine, precision)
        if converted is not None:
            return [converted.translate(image) for image in images]
    return translate_images(generator, images, multiple, batch_size, style, precision)
