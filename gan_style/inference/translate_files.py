"""`gan-style translate`: from a checkpoint or an exported file to written images, on the engine
`engine_policy` picks. A checkpoint whose conversion an earlier run recorded, and an exported
file, run without loading PyTorch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gan_style.errors import ConfigError, DataError, GanStyleError
from gan_style.inference.clip_files import write_clip_translations
from gan_style.inference.conversion_cache import FileIndex
from gan_style.inference.files import (
    Report,
    largest_pixels,
    planned_outputs,
    split_clips,
    write_translations,
)
from gan_style.inference.openvino_engine import OpenVinoGenerator
from gan_style.inference.options import TranslateOptions
from gan_style.runtime.lanes import usable_cores

if TYPE_CHECKING:
    import torch

    from gan_style.inference.generators import Generators

Pairs = list[tuple[Path, Path]]


def translate_files(
    source: Path, inputs: list[Path], out: Path, options: TranslateOptions
) -> Report:
    """Translate every readable input image into `out` with the generator in `source` (a run
    folder, checkpoint, generator file, reference .pth, or an .onnx file from `export`)."""
    if source.suffix.lower() == ".onnx":
        return translate_exported(source, inputs, out, options)
    pairs = planned_outputs(inputs, out, options.format, options.overwrite, options.skip_existing)
    kind = options.recorded_conversion_kind()
    index = FileIndex(source, options.record_key(kind)) if kind else None
    recorded = index.lookup() if index else None
    if recorded is not None:
        try:
            engine = _compiled(recorded)
        except (GanStyleError, RuntimeError):  # damaged, or its engine uninstalled since
            engine = None
        if engine is not None:
            return _write_converted(engine, pairs, options, options.direction or "AtoB")
    return translate_checkpoint(source, pairs, options, index)


def translate_checkpoint(
    source: Path, pairs: Pairs, options: TranslateOptions, index: FileIndex | None = None
) -> Report:
    """Load the checkpoint with PyTorch and translate; a conversion the engine makes is
    recorded in `index`, for the next run."""
    from gan_style.image_io import load_image
    from gan_style.inference.generators import load_generators
    from gan_style.runtime.device import pick_device
    from gan_style.runtime.speed import resolve_precision

    if options.style and options.style_image:
        raise ConfigError("give --style or --style-image, not both")
    device = pick_device(options.device)
    gens = load_generators(source, device, options.conv_backend, options.eval_mode, options.engine)
    gens.precision = resolve_precision(options.precision, device)
    image = load_image(options.style_image) if options.style_image else None
    style = gens.style_code(options.style, image)
    return translate_paths(gens, pairs, options, style, index)


def translate_paths(
    gens: Generators,
    pairs: Pairs,
    options: TranslateOptions,
    style: torch.Tensor | None = None,
    index: FileIndex | None = None,
) -> Report:
    """Translate the (input, output) pairs with loaded generators: on their conversion where
    `engines.converted_engine` gives one, else with PyTorch (tiles, batches, lanes)."""
    from gan_style.inference.engines import converted_engine
    from gan_style.networks.generators import dialled

    direction = options.direction or "AtoB"
    generator = gens.pick(direction)
    with dialled(generator, options.strength):
        if options.engine_allowed():
            engine = converted_engine(generator, gens.multiple, style, gens.engine, gens.precision)
            if engine is not None:
                if index is not None and engine.around is None:  # steps around need the model
                    index.record(engine.path)
                return _write_converted(engine, pairs, options, direction)
        return _write_with_pytorch(gens, generator, pairs, options, style, direction)


def _write_with_pytorch(
    gens: Generators,
    generator: torch.nn.Module,
    pairs: Pairs,
    options: TranslateOptions,
    style: torch.Tensor | None,
    direction: str,
) -> Report:
    from gan_style.inference.tiling import translate_tiled
    from gan_style.inference.translation import draws_randomly, translate_images
    from gan_style.networks.generators import upscale_of
    from gan_style.runtime.lanes import default_lanes

    device = next(generator.parameters()).device
    batch_size = options.batch_size or (1 if device.type == "cpu" else 4)
    lanes = options.lanes
    if batch_size > 1 or draws_randomly(generator):
        lanes = 1  # a batch shares the cores instead; random draws must come in image order
    elif lanes is None:
        lanes = default_lanes(device, largest_pixels(pairs))

    def translate(images: list[np.ndarray]) -> list[np.ndarray]:
        if options.tile:
            return [
                translate_tiled(
                    generator, image, options.tile, gens.multiple, options.tile_overlap, style,
                    whole_image_statistics=options.tile_norm == "whole",
                )
                for image in images
            ]  # fmt: skip
        return translate_images(
            generator, images, gens.multiple, batch_size, style, gens.precision, lanes=1
        )

    return _write(
        translate, pairs, options, gens.config.data.channels, f"translate {direction}",
        batch_size=batch_size, lanes=lanes, upscale=upscale_of(generator),
    )  # fmt: skip


def translate_exported(
    model: Path, inputs: list[Path], out: Path, options: TranslateOptions
) -> Report:
    """An exported ONNX file (fp32 or int8) on OpenVINO, without importing PyTorch."""
    given = options.not_for_exported_files()
    if given:
        raise ConfigError(
            f"{', '.join(given)} need(s) a checkpoint: an ONNX file runs as exported, on the CPU "
            f"(give the run folder or checkpoint instead)"
        )
    pairs = planned_outputs(inputs, out, options.format, options.overwrite, options.skip_existing)
    engine = _compiled(model, options.lanes)
    if options.direction is not None and options.direction != engine.direction:
        raise DataError(
            f"{model} holds the {engine.direction} generator; export the {options.direction} "
            f"one with gan-style export RUN --format onnx --direction {options.direction}"
        )
    return _write_converted(engine, pairs, options, engine.direction)


def _compiled(model: Path, lanes: int | None = None) -> OpenVinoGenerator:
    """A converted or exported file on every core, with `lanes` images in flight (None: one
    at a time)."""
    return OpenVinoGenerator(model, usable_cores(), lanes or 1)


def _write_converted(
    engine: OpenVinoGenerator, pairs: Pairs, options: TranslateOptions, direction: str
) -> Report:
    return _write(
        lambda images: [engine.translate(image) for image in images], pairs, options,
        engine.channels, f"translate {direction} ({engine.label})", lanes=engine.lanes,
        torch_threads=False, upscale=engine.upscale,
    )  # fmt: skip


def _write(
    translate: Callable[[list[np.ndarray]], list[np.ndarray]],
    pairs: Pairs,
    options: TranslateOptions,
    channels: int,
    description: str,
    batch_size: int = 1,
    lanes: int = 1,
    torch_threads: bool = True,
    upscale: int = 1,
) -> Report:
    """Images (in batches and lanes), then video clips (frame by frame, in order)."""
    images, clips = split_clips(pairs)
    report = Report()
    if images or not clips:
        report = write_translations(
            translate, images, channels, batch_size, lanes, options.quality,
            options.max_pixels, options.progress, description, torch_threads=torch_threads,
            upscale=upscale,
        )  # fmt: skip
    if clips:
        done = write_clip_translations(
            translate, clips, channels, options.max_pixels, options.steadying, options.progress,
            description, upscale, options.even_sides,
        )  # fmt: skip
        report.written += done.written
        report.skipped += done.skipped
    return report


def prepare_engine(source: Path, options: TranslateOptions | None = None) -> Path | None:
    """Convert a checkpoint for this machine's CPU engine now, and record it, so that its first
    `translate` with `options` (default: the defaults) starts without PyTorch: for training
    when it writes `generator.pt` and `best.pt`, and for `export`. The converted file, or None
    where these options run on PyTorch here (or the model needs a style to be chosen)."""
    from gan_style.inference.engines import converted_engine
    from gan_style.inference.generators import load_generators
    from gan_style.networks import set_strength

    options = options or TranslateOptions()
    kind = options.recorded_conversion_kind()
    if kind is None:
        return None
    gens = load_generators(source, "cpu", eval_mode=options.eval_mode, engine=options.engine)
    if gens.styles and options.style is None:
        return None
    style = gens.style_code(options.style) if options.style else None
    generator = gens.pick(options.direction or "AtoB")
    set_strength(generator, options.strength)
    engine = converted_engine(generator, gens.multiple, style, gens.engine)
    if engine is None or engine.around is not None:  # steps around need the model: not recorded
        return None
    FileIndex(source, options.record_key(kind)).record(engine.path)
    return engine.path
