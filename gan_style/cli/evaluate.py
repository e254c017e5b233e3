"""`gan-style evaluate`: score a checkpoint on held-out images."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from gan_style.cli.arguments import DEVICES, add_eval_mode_option, add_style_options, at_least

if TYPE_CHECKING:
    from gan_style.config import Config


def add_parser(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "evaluate", help="score a checkpoint on held-out images, or a translated clip's flicker"
    )
    p.add_argument(
        "source", type=Path,
        help="run folder or checkpoint file (latest.pt, best.pt, ...), or a translated video "
        "clip (with --clip)",
    )  # fmt: skip
    p.add_argument(
        "--clip", type=Path,
        help="a translated clip's input clip: its flicker (warping error) is scored against the "
        "input's own",
    )  # fmt: skip
    p.add_argument("--split", default="test", help="held-out split: <split>A/, <split>B/ (test)")
    p.add_argument(
        "--protocol", default="all", choices=["paired", "cycle", "content", "all"],
        help="which comparisons (default all, with FID/KID)",
    )  # fmt: skip
    p.add_argument("--out", type=Path, help="output folder (default <run>/eval/<ckpt>_<split>)")
    p.add_argument(
        "--inception-weights", type=Path,
        help="the FID Inception file (weights-inception-2015-12-05-6726825d.pth); default: "
        "torch.hub's cache, else a download",
    )  # fmt: skip
    p.add_argument(
        "--fid-reference", type=Path,
        help="AtoB's FID/KID reference: a folder of images or a statistics file (default: the "
        "held-out target images)",
    )  # fmt: skip
    p.add_argument("--no-fid", action="store_true", help="skip FID/KID")
    p.add_argument(
        "--lpips-weights", type=Path,
        help="torchvision's AlexNet file (alexnet-owt-7be5be79.pth) for LPIPS; default: "
        "torchvision's cache, else a download",
    )  # fmt: skip
    p.add_argument("--no-lpips", action="store_true", help="skip LPIPS")
    p.add_argument(
        "--no-style-score", action="store_true",
        help="skip the deception rate of the dataset's domain classifier (unpaired data; "
        "trained once per dataset, under a minute, then cached)",
    )  # fmt: skip
    p.add_argument(
        "--unverified-weights", action="store_true",
        help="accept Inception/AlexNet files that are not the official ones (scores are then "
        "marked standard_weights: false)",
    )  # fmt: skip
    p.add_argument("--device", default="auto", choices=DEVICES)
    p.add_argument(
        "--batch-size", type=at_least(1), help="images per pass (default 1 on CPU, 8 on GPUs)"
    )
    p.add_argument(
        "--hints", type=at_least(0),
        help="colour filling: colour hints on each held-out drawing (default: the run's "
        "data.sketch_hints; 0 scores it without any)",
    )  # fmt: skip
    add_style_options(p, blend=False)
    add_eval_mode_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    from gan_style.disk import check_writable
    from gan_style.runtime import checkpoint_names as ckpt
    from gan_style.video.clips import is_video

    if is_video(args.source) or args.clip:
        score_clip(args.source, args.clip)
        return

    source = ckpt.resolve(args.source)
    out = args.out or source.parent / "eval" / f"{source.stem}_{args.split}"
    check_writable(out, "evaluation folder")  # before PyTorch loads
    from gan_style.evaluation.report import SUMMARY_HEADERS, render_table, summary_rows
    from gan_style.evaluation.runner import Scoring, evaluate
    from gan_style.inference import load_generators
    from gan_style.runtime.device import pick_device

    device = pick_device(args.device)
    gens = load_generators(source, device, eval_mode=args.eval_mode)
    if args.hints is not None:
        gens.config = with_hints(gens.config, args.hints)
    scoring = Scoring(
        fid=not args.no_fid,
        inception_weights=args.inception_weights,
        fid_reference=args.fid_reference,
        lpips=not args.no_lpips,
        lpips_weights=args.lpips_weights,
        verify_weights=not args.unverified_weights,
        style=not args.no_style_score,
    )
    summary = evaluate(
        gens, out, args.split, args.protocol, scoring, str(device), args.batch_size, args.style
    )
    print(f"{gens.config.name} step {gens.step} on {args.split} ({source})")
    print(render_table(SUMMARY_HEADERS, summary_rows(summary["metrics"])), end="")
    for note in summary["notes"]:
        print(f"note: {note}")
    print(
        f"wrote {out / 'summary.json'}, {out / 'per_image.csv'} and images under {out / 'images'}"
    )


def with_hints(cfg: Config, hints: int) -> Config:
    """`cfg` with its held-out drawings carrying `hints` colour hints (`--hints`)."""
    import dataclasses

    from gan_style.errors import ConfigError

    if cfg.data.dataset_mode != "sketch" or cfg.data.direction != "BtoA":
        raise ConfigError(
            f"--hints is for colour filling (sketch data, direction BtoA); {cfg.name} is not"
        )
    return dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, sketch_hints=hints))


def score_clip(translated: Path, clip: Path | None) -> None:
    """`evaluate OUT.mp4 --clip IN.mp4`: the warping error of both clips, along IN's flow."""
    from gan_style.errors import ConfigError
    from gan_style.evaluation.flicker import clip_flicker
    from gan_style.evaluation.report import render_table

    if clip is None:
        raise ConfigError(f"scoring the clip {translated} needs the clip it was translated from: "
                          f"--clip INPUT")  # fmt: skip
    flicker = clip_flicker(translated, clip)
    rows = [["translated", translated.name, f"{flicker.output:.3g}"],
            ["input (the footage's own)", clip.name, f"{flicker.input:.3g}"]]  # fmt: skip
    print(f"warping error over {flicker.frames} frames (lower is steadier; Lai et al. 2018)")
    print(render_table(["clip", "file", "warping error"], rows), end="")
