"""`gan-style compare`: one table of every run's metrics and differing config keys."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("compare", help="one table of metrics and differing config keys")
    p.add_argument("runs", nargs="+", type=Path, help="run folders, e.g. runs/monet/*")
    p.add_argument("--format", default="text", choices=["text", "csv", "markdown"])
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    from gan_style.evaluation.compare import compare_runs
    from gan_style.evaluation.report import render_table

    headers, rows = compare_runs(args.runs)
    print(render_table(headers, rows, args.format), end="")
