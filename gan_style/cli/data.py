"""`gan-style data`: fetch the official datasets, or build the painters and demo sets."""

from __future__ import annotations

import argparse
from pathlib import Path

from gan_style.disk import check_writable


def add_parser(commands: argparse._SubParsersAction) -> None:
    data = commands.add_parser("data", help="fetch or build datasets")
    actions = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    p = actions.add_parser("download", help="fetch an official CycleGAN or pix2pix dataset")
    p.add_argument("name", help="e.g. monet2photo, horse2zebra, facades, edges2shoes")
    p.add_argument(
        "--kind", choices=["cyclegan", "pix2pix"], help="collection (default: cyclegan if in both)"
    )
    p.add_argument("--root", type=Path, default=Path("data"), help="parent folder (default data)")
    p.set_defaults(func=download)
    p = actions.add_parser("painters", help="link the four painter sets for multistyle")
    p.add_argument("--root", type=Path, default=Path("data"), help="holds <style>2photo/ (data)")
    p.set_defaults(func=painters)
    p = actions.add_parser("demo", help="build the offline demo dataset")
    p.add_argument("--root", type=Path, default=Path("data/demo"), help="default data/demo")
    p.set_defaults(func=demo)


def download(args: argparse.Namespace) -> None:
    check_writable(args.root, "data folder")
    from gan_style.data.download import download_dataset

    folder = download_dataset(args.name, args.root, args.kind)
    print(f"dataset ready: {folder}")


def painters(args: argparse.Namespace) -> None:
    check_writable(args.root, "data folder")
    from gan_style.data.painters import build_painters_dataset

    folder = build_painters_dataset(args.root)
    print(f"painters dataset ready: {folder} (photos in trainA/, paintings in trainB/<style>/)")


def demo(args: argparse.Namespace) -> None:
    check_writable(args.root, "data folder")
    from gan_style.data.demo import build_demo_dataset

    folder = build_demo_dataset(args.root)
    print(f"demo dataset ready: {folder}")
