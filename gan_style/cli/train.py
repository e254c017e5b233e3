"""`gan-style train`: train an experiment, or resume its run."""

from __future__ import annotations

import argparse


def add_parser(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("train", help="train an experiment (resumes a run that exists)")
    p.add_argument("experiment", help="experiment name (experiments/NAME.yaml) or a YAML path")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="e.g. train.lr=1e-4")
    p.add_argument("--run", default="default", help="run name: runs/<experiment>/<run>/")
    p.add_argument("--dry-run", action="store_true", help="print the resolved config and exit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gan_style.config import dump, load_config, run_dir_for
    from gan_style.disk import check_writable

    cfg = load_config(args.experiment, args.overrides)
    if args.dry_run:
        print(dump(cfg), end="")
        return 0
    check_writable(run_dir_for(cfg, args.run), "run folder")  # before PyTorch loads
    from gan_style.training.loop import train
    from gan_style.training.stop import Stopped

    try:
        run_dir = train(cfg, run=args.run)
    except Stopped as e:  # saved, and said how to resume: the run did not finish
        return e.exit_code
    print(f"run folder: {run_dir}")
    print(f"  samples:     {run_dir / 'samples'}")
    print(
        f"  checkpoints: {run_dir / 'latest.pt'} (resume), {run_dir / 'generator.pt'} (inference)"
    )
    print(f"  TensorBoard: tensorboard --logdir {run_dir.parent.parent}  (or: make tensorboard)")
    return 0
