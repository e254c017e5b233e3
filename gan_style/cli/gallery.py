"""`gan-style gallery`: an HTML gallery of checkpoints or runs side by side."""

from __future__ import annotations

import argparse
from pathlib import Path

from gan_style.cli.arguments import (
    DEVICES,
    add_eval_mode_option,
    add_style_options,
    at_least,
    strengths,
    style_image,
)


def add_parser(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("gallery", help="HTML gallery of checkpoints or runs side by side")
    p.add_argument("sources", type=Path, nargs="+", metavar="RUN_DIR|CHECKPOINT")
    p.add_argument("--images", type=Path, help="images to translate (default: held-out testA/)")
    p.add_argument("--n", type=at_least(1), default=16, help="number of images (default 16)")
    p.add_argument(
        "--checkpoints", default="all", help="one run's: all, latest, best, every:K, or names"
    )
    p.add_argument("--direction", default="AtoB", choices=["AtoB", "BtoA"])
    p.add_argument("--out", type=Path, help="output folder (default <run>/gallery)")
    p.add_argument("--device", default="auto", choices=DEVICES)
    p.add_argument(
        "--strengths", type=strengths, default=(1.0,), metavar="S,S,...",
        help="models trained with model.global_skip: one column per strength of the learned "
        "change, e.g. 0.5,1,1.5 (0 = the input, 1 = as trained; default 1)",
    )  # fmt: skip
    add_style_options(p)
    add_eval_mode_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    from gan_style.disk import check_writable
    from gan_style.errors import DiskFullError

    first = args.sources[0]
    out = args.out or (first if first.is_dir() else first.parent) / "gallery"
    check_writable(out, "gallery folder")  # before PyTorch loads
    from gan_style.gallery import build_gallery
    from gan_style.runtime.device import pick_device

    try:
        index = build_gallery(
            args.sources, out, args.images, args.n, args.checkpoints, args.direction,
            str(pick_device(args.device)), args.style, style_image(args), args.eval_mode,
            args.strengths,
        )  # fmt: skip
    except DiskFullError as e:
        raise DiskFullError(
            f"{e}; the gallery in {out} is incomplete (each file in it is whole): free some "
            f"space and run the same command again"
        ) from None
    print(f"gallery: {index} (open it in a browser; works offline)")
    print(f"contact sheet: {out / 'contact_sheet.png'}")
