"""The `gan-style` command: train, data; errors for people print as one line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gan_style.errors import GanStyleError


def cmd_train(args: argparse.Namespace) -> None:
    from gan_style.config import dump, load_config

    cfg = load_config(args.experiment, args.overrides)
    if args.dry_run:
        print(dump(cfg), end="")
        return
    from gan_style.training.loop import train

    run_dir = train(cfg, run=args.run)
    print(f"run folder: {run_dir}")
    print(f"  samples:     {run_dir / 'samples'}")
    print(
        f"  checkpoints: {run_dir / 'latest.pt'} (resume), {run_dir / 'generator.pt'} (inference)"
    )
    print(f"  TensorBoard: tensorboard --logdir {run_dir.parent.parent}  (or: make tensorboard)")


def cmd_data_download(args: argparse.Namespace) -> None:
    from gan_style.data.download import download_cyclegan_dataset

    folder = download_cyclegan_dataset(args.name, args.root)
    print(f"dataset ready: {folder}")


def cmd_data_demo(args: argparse.Namespace) -> None:
    from gan_style.data.demo import build_demo_dataset

    folder = build_demo_dataset(args.root)
    print(f"demo dataset ready: {folder}")


def cmd_evaluate(args: argparse.Namespace) -> None:
    from gan_style.evaluation.report import SUMMARY_HEADERS, render_table, summary_rows
    from gan_style.evaluation.runner import evaluate
    from gan_style.inference import load_generators, resolve_checkpoint
    from gan_style.training.loop import pick_device

    device = pick_device(args.device)
    source = resolve_checkpoint(args.source)
    out = args.out or source.parent / "eval" / f"{source.stem}_{args.split}"
    gens = load_generators(source, device)
    summary = evaluate(
        gens, out, args.split, args.protocol, not args.no_fid, args.inception_weights,
        str(device), args.batch_size,
    )  # fmt: skip
    print(f"{gens.config.name} step {gens.step} on {args.split} ({source})")
    print(render_table(SUMMARY_HEADERS, summary_rows(summary["metrics"])), end="")
    for note in summary["notes"]:
        print(f"note: {note}")
    print(
        f"wrote {out / 'summary.json'}, {out / 'per_image.csv'} and images under {out / 'images'}"
    )


def cmd_compare(args: argparse.Namespace) -> None:
    from gan_style.evaluation.compare import compare_runs
    from gan_style.evaluation.report import render_table

    headers, rows = compare_runs(args.runs)
    print(render_table(headers, rows, args.format), end="")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gan-style", description="Image style translation: train, evaluate and translate."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("train", help="train an experiment (resumes a run that exists)")
    p.add_argument("experiment", help="experiment name (experiments/NAME.yaml) or a YAML path")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="e.g. train.lr=1e-4")
    p.add_argument("--run", default="default", help="run name: runs/<experiment>/<run>/")
    p.add_argument("--dry-run", action="store_true", help="print the resolved config and exit")
    p.set_defaults(func=cmd_train)

    p = commands.add_parser("evaluate", help="score a checkpoint on held-out images")
    p.add_argument(
        "source", type=Path, help="run folder or checkpoint file (latest.pt, best.pt, ...)"
    )
    p.add_argument("--split", default="test", help="held-out split: <split>A/, <split>B/ (test)")
    p.add_argument(
        "--protocol", default="all", choices=["paired", "cycle", "content", "all"],
        help="which comparisons (default all, with FID/KID)",
    )  # fmt: skip
    p.add_argument("--out", type=Path, help="output folder (default <run>/eval/<ckpt>_<split>)")
    p.add_argument("--inception-weights", type=Path, help="local Inception-v3 weights for FID/KID")
    p.add_argument("--no-fid", action="store_true", help="skip FID/KID")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument("--batch-size", type=int, default=8)
    p.set_defaults(func=cmd_evaluate)

    p = commands.add_parser("compare", help="one table of metrics and differing config keys")
    p.add_argument("runs", nargs="+", type=Path, help="run folders, e.g. runs/monet/*")
    p.add_argument("--format", default="text", choices=["text", "csv", "markdown"])
    p.set_defaults(func=cmd_compare)

    data = commands.add_parser("data", help="fetch or build datasets")
    data_commands = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    p = data_commands.add_parser("download", help="fetch an official CycleGAN dataset")
    p.add_argument("name", help="e.g. monet2photo, horse2zebra, summer2winter_yosemite")
    p.add_argument("--root", type=Path, default=Path("data"), help="parent folder (default data)")
    p.set_defaults(func=cmd_data_download)
    p = data_commands.add_parser("demo", help="build the offline demo dataset")
    p.add_argument("--root", type=Path, default=Path("data/demo"), help="default data/demo")
    p.set_defaults(func=cmd_data_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
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
        args.func(args)
    except GanStyleError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
