"""Option types and option groups that several commands share."""

from __future__ import annotations

import argparse
import dataclasses
import typing
from pathlib import Path

DEVICES = ["auto", "cpu", "cuda", "mps"]


def at_least(low: int) -> typing.Callable[[str], int]:
    """An argparse type: an integer of at least `low`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be {low} or more, got {value}")
        return value

    return parse


def tile_size(text: str) -> int:
    value = at_least(0)(text)
    if 0 < value < 32:
        raise argparse.ArgumentTypeError(f"must be 0 (off) or at least 32 px, got {value}")
    return value


def quality(text: str) -> int:
    value = at_least(1)(text)
    if value > 100:
        raise argparse.ArgumentTypeError(f"must be 1 to 100, got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


MAX_STRENGTH = 4.0  # past this a global skip's tanh saturates: the image is lost to the change


def strength(text: str) -> float:
    """An argparse type: a strength dial setting, 0 (the input) to MAX_STRENGTH."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None
    if not 0 <= value <= MAX_STRENGTH:
        raise argparse.ArgumentTypeError(
            f"must be 0 (the input) to {MAX_STRENGTH:g}; 1 is the model as trained, got {text}"
        )
    return value


def strengths(text: str) -> tuple[float, ...]:
    """An argparse type: a comma list of strength settings, "0.5,1,1.5"."""
    return tuple(strength(part.strip()) for part in text.split(",") if part.strip()) or (1.0,)


def add_strength_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--strength", type=strength, default=1.0,
        help="models trained with model.global_skip: how much of the learned change to apply "
        "(0 = the input, 1 = as trained (default), above 1 = stronger, at most 4)",
    )  # fmt: skip


def add_eval_mode_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--eval-mode", action="store_true",
        help="batch norm with its running statistics and dropout off, instead of the pix2pix "
        "paper's test-time behaviour (test-batch statistics, dropout on)",
    )  # fmt: skip


def add_style_options(p: argparse.ArgumentParser, blend: bool = True) -> None:
    what = "NAME or a blend NAME:W,NAME:W" if blend else "NAME"
    p.add_argument("--style", help=f"multistyle models: the style, {what}")
    if blend:
        p.add_argument("--style-image", type=Path, help="multistyle: use this painting's style")


def add_dataclass_options(p: argparse.ArgumentParser, cls: type) -> None:
    """One option per field of `cls` (`style_weight` -> `--style-weight`), with the field's
    default, help, type and choices: the dataclass is the one declaration of both."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        meta = dict(f.metadata)
        help_text = meta.pop("help", None)
        default = f.default
        kind = meta.pop("type", None) or (type(default) if default is not None else float)
        if hints[f.name] is float:  # `--style-weight 1` is a float too
            kind = float
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        p.add_argument(
            f"--{f.name.replace('_', '-')}", dest=f.name, type=kind, default=default,
            help=f"{help_text} (default {shown})" if default is not None else help_text, **meta,
        )  # fmt: skip


def dataclass_from_args(cls: type, args: argparse.Namespace) -> object:
    return cls(**{f.name: getattr(args, f.name) for f in dataclasses.fields(cls)})


def style_image(args: argparse.Namespace) -> typing.Any:
    """The `--style-image` painting as an array, or None; with `--style` too, an error."""
    from gan_style.errors import ConfigError
    from gan_style.image_io import load_image

    if getattr(args, "style", None) and getattr(args, "style_image", None):
        raise ConfigError("give --style or --style-image, not both")
    return load_image(args.style_image) if getattr(args, "style_image", None) else None
