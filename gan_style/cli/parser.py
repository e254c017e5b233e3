"""The `gan-style` argument parser: one sub-command per module of this folder."""

from __future__ import annotations

import argparse

from gan_style.cli import (
    compare,
    data,
    evaluate,
    export,
    gallery,
    pretrained,
    serve,
    stylize,
    train,
    translate,
)

# Commands with parsers of their own (`gan-style bench --help`): listed here, run by `main`.
OWN_PARSERS = {
    "bench": "speed benchmark as JSON (gan-style bench --help)",
    "quality": "quality per variant over seeds, as JSON (gan-style quality --help)",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gan-style", description="Image style translation: train, evaluate and translate."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    train.add_parser(commands)
    evaluate.add_parser(commands)
    compare.add_parser(commands)
    translate.add_parser(commands)
    gallery.add_parser(commands)
    serve.add_parser(commands)
    pretrained.add_parser(commands)
    for name, help_text in OWN_PARSERS.items():
        commands.add_parser(name, help=help_text)
    export.add_parser(commands)
    stylize.add_parser(commands)
    data.add_parser(commands)
    return parser
