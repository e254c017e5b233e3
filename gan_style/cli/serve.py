"""`gan-style serve`: the local web page."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from gan_style.cli.arguments import DEVICES, at_least, positive_float
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
    p.add_argument(
        "--auth", action="append", default=[], metavar="USER:PASSWORD",
        help="require this login (repeat for more users); see also --auth-file",
    )  # fmt: skip
    p.add_argument(
        "--auth-file", type=Path,
        help="require a login from this file: one USER:PASSWORD per line (keeps passwords out "
        "of the process list and the shell's history)",
    )  # fmt: skip
    p.add_argument(
        "--max-upload-mb", type=positive_float, default=25.0,
        help="largest file a user may upload, refused before it is read (default 25)",
    )  # fmt: skip
    p.add_argument(
        "--max-megapixels", type=positive_float, default=16.0,
        help="largest image the page translates, read from its header before it is decoded "
        "(default 16: a 4,096 x 4,096 photo)",
    )  # fmt: skip
    p.add_argument(
        "--queue-size", type=at_least(1), default=32,
        help="jobs that may wait while one runs; beyond them users are told to try again "
        "(default 32)",
    )  # fmt: skip
    p.set_defaults(func=run)


def logins(pairs: list[str], path: Path | None) -> list[tuple[str, str]]:
    """(user, password) pairs from `--auth` values and the lines of `--auth-file`."""
    if path is not None:
        try:
            lines = path.read_text().splitlines()
        except (OSError, UnicodeDecodeError) as e:
            raise GanStyleError(f"cannot read --auth-file {path}: {e}") from None
        pairs = [*pairs, *(line.strip() for line in lines if line.strip())]
    found = []
    for pair in pairs:
        user, colon, password = pair.partition(":")
        if not (user and colon and password):
            raise GanStyleError(f"a login is USER:PASSWORD, both non-empty; got '{user}:...'")
        found.append((user, password))
    if path is not None and not found:
        raise GanStyleError(f"--auth-file {path} holds no USER:PASSWORD line")
    return found


def stop_on_sigterm() -> None:
    """SIGTERM stops the server as Ctrl-C does: the job in flight finishes writing and the
    page's files are removed, where the default action would end the process mid-write."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def run(args: argparse.Namespace) -> None:
    from gan_style.app.outputs import OutputFolders
    from gan_style.runtime.device import pick_device

    auth = logins(args.auth, args.auth_file)
    try:
        outputs = OutputFolders()
    except OSError as e:
        raise GanStyleError(
            f"cannot make the page's folder in {e.filename or 'the temporary folder'}: "
            f"{e.strerror}; point TMPDIR at a folder that can be written"
        ) from None
    # Gradio keeps uploads and its copies of the outputs here (read when it is imported), so
    # that they go too when the server stops.
    os.environ.setdefault("GRADIO_TEMP_DIR", str(outputs.base / "gradio"))
    try:
        import gradio  # noqa: F401
    except ImportError:
        outputs.close()
        raise GanStyleError(
            "the web page needs Gradio: pip install -e '.[app]' (make install includes it)"
        ) from None
    from gan_style.app.page import Limits, serve

    if args.host not in LOOPBACK:
        login = "a login (--auth)" if auth else "no login: add --auth USER:PASSWORD"
        print(
            f"warning: serving on {args.host} with {login}; anyone who can reach this machine "
            f"on port {args.port} can reach the page (the default, 127.0.0.1, is this machine "
            "only)",
            file=sys.stderr,
        )
    print(f"gan-style serve: http://{args.host}:{args.port} (Ctrl-C stops it)", flush=True)
    limits = Limits(args.max_upload_mb, args.max_megapixels, args.queue_size)
    stop_on_sigterm()
    try:
        serve(
            args.sources, args.host, args.port, str(pick_device(args.device)),
            args.vgg_weights, limits=limits, auth=auth, outputs=outputs,
        )  # fmt: skip
    finally:
        outputs.close()
