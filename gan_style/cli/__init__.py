"""The `gan-style` command: one module per sub-command; errors for people print as one line."""

from __future__ import annotations

import contextlib
import os
import sys

from gan_style.cli.parser import build_parser
from gan_style.disk import disk_full
from gan_style.errors import DiskFullError, GanStyleError

__all__ = ["QUICK_EXIT", "build_parser", "console", "main"]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:  # the benchmark has its own options
        from gan_style.benchmark import main as bench

        bench(argv[1:])
        return 0
    if argv[:1] == ["quality"]:  # so has the quality benchmark
        from gan_style.quality import main as quality

        quality(argv[1:])
        return 0
    parser = build_parser()
    # Overrides may come after options (`train demo --run a k=v`), which argparse's
    # positional nargs="*" cannot collect by itself.
    args, extra = parser.parse_known_args(argv)
    stray = [a for a in extra if a.startswith("-") or "=" not in a]
    if stray or (extra and not hasattr(args, "overrides")):
        parser.error(f"unrecognized arguments: {' '.join(stray or extra)}")
    if extra:
        args.overrides += extra
    try:
        status = args.func(args)
    except GanStyleError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except (OSError, RuntimeError) as e:  # where no command said it better
        if not disk_full(e):
            raise
        where = f" to write {e.filename}" if getattr(e, "filename", None) else ""
        print(f"error: no space left on the disk{where}; free some space and run the same "
              f"command again", file=sys.stderr)  # fmt: skip
        return DiskFullError.exit_code
    return status or 0


# Commands that are done when they return: every file written and closed, no worker left.
QUICK_EXIT = ("translate", "gallery", "export")


def console() -> None:
    """The `gan-style` command. After a command in `QUICK_EXIT` it leaves without Python's
    interpreter teardown, which takes over a second once PyTorch is imported (the finalizers
    of its operator libraries). A reader that leaves early (`gan-style compare ... | head`)
    ends it with status 1 and Ctrl-C with 130, without a traceback; the files written so far
    stay."""
    argv = sys.argv[1:]
    try:
        try:
            status = main(argv)
        finally:
            sys.stdout.flush()  # here, so that a reader who left shows up below, not at exit
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no complaint at exit
        sys.exit(1)
    except KeyboardInterrupt:  # Ctrl-C: every file written so far is whole (write_atomic)
        print("\nstopped", file=sys.stderr)
        sys.exit(130)
    if argv[:1] and argv[0] in QUICK_EXIT and "torch" in sys.modules:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        os._exit(status)
    sys.exit(status)
