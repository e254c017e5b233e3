"""`gan-style pretrained download`: fetch a published CycleGAN generator."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(commands: argparse._SubParsersAction) -> None:
    pretrained = commands.add_parser("pretrained", help="published CycleGAN generators")
    actions = pretrained.add_subparsers(dest="pretrained_command", required=True, metavar="ACTION")
    p = actions.add_parser("download", help="fetch a published generator (.pth)")
    p.add_argument("name", help="e.g. style_monet, horse2zebra, summer2winter_yosemite")
    p.add_argument(
        "--root", type=Path, default=Path("pretrained"), help="folder (default pretrained)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    from gan_style.inference.pretrained import download_pretrained

    path = download_pretrained(args.name, args.root)
    print(f"weights ready: {path}  (use it with: gan-style translate {path} IMAGES --out DIR)")
