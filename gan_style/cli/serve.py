"""`gan-style serve`: the local web page."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gan_style.cli.arguments import DEVICES, at_least
from gan_style.errors import GanStyleError

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def add_parser(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("serve", help="a local web page: translate, compare, stylize")
    p.add_argument("sources", type=Path, nargs="+", metavar="RUN_DIR|CHECKPOINT")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=at_least(1), default=7860, help="port (default 7860)")
    p.add_argument("--device", default="auto", choices=DEVICES)
    p.add_argument(
        "--vgg-weights", type=Path, help="VGG-19 weights for the Stylize tab (default: download)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    from gan_style.runtime.device import pick_device

    try:
        import gradio  # noqa: F401
    except ImportError:
        raise GanStyleError(
            "the web page needs Gradio: pip install -e '.[app]' (make install includes it)"
        ) from None
    from gan_style.app.page import serve

    if args.host not in LOOPBACK:
        print(
            f"warning: serving on {args.host}: anyone who can reach this machine on port "
            f"{args.port} can use the page and its models (the default, 127.0.0.1, is this "
            "machine only)",
            file=sys.stderr,
        )
    print(f"gan-style serve: http://{args.host}:{args.port} (Ctrl-C stops it)", flush=True)
    serve(args.sources, args.host, args.port, str(pick_device(args.device)), args.vgg_weights)
