"""`gan-style translate`: image files and folders through a checkpoint or an exported file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gan_style.cli.arguments import (
    DEVICES,
    add_eval_mode_option,
    add_strength_option,
    add_style_options,
    at_least,
    positive_float,
    quality,
    tile_size,
)
from gan_style.inference.engine_policy import ENGINES, renamed
from gan_style.inference.files import FORMATS


def add_parser(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("translate", help="translate image files and folders")
    p.add_argument(
        "checkpoint", type=Path,
        help="run folder, checkpoint, generator.pt, reference .pth, or an .onnx file from "
        "gan-style export (run on OpenVINO without loading PyTorch: fast start-up)",
    )  # fmt: skip
    p.add_argument(
        "inputs", type=Path, nargs="+", metavar="INPUT",
        help="image files, video clips (.mp4, .mov, .mkv, .webm, .avi, .m4v) or folders of both",
    )  # fmt: skip
    p.add_argument("--out", type=Path, required=True, help="output folder (same file names)")
    p.add_argument(
        "--direction", choices=["AtoB", "BtoA"],
        help="default AtoB (an .onnx file: the direction it was exported for)",
    )  # fmt: skip
    p.add_argument(
        "--batch-size", type=at_least(1),
        help="images of one size per pass (default 1 on CPU, where larger batches measured "
        "slower and used more memory, 4 on GPUs)",
    )  # fmt: skip
    p.add_argument(
        "--lanes", type=at_least(1),
        help="images in flight at once on CPU, each on a share of the cores (default 2 where "
        "there are 2 or more cores)",
    )  # fmt: skip
    _add_output_options(p)
    _add_video_options(p)
    _add_engine_options(p)
    add_style_options(p)
    add_strength_option(p)
    add_eval_mode_option(p)
    p.set_defaults(func=run)


def _add_output_options(p: argparse.ArgumentParser) -> None:
    """Tiles, formats and limits: how images are read and written."""
    p.add_argument(
        "--tile", type=tile_size, default=0,
        help="translate images larger than N px in overlapping NxN tiles: bounded memory",
    )  # fmt: skip
    p.add_argument(
        "--tile-overlap", type=at_least(0),
        help="px shared by neighbouring tiles (default N/4); wider is closer to the whole image",
    )  # fmt: skip
    p.add_argument(
        "--tile-norm", default="whole", choices=["whole", "tile"],
        help="with --tile, norm layers use the whole image's statistics (one more pass over "
        "the tiles per norm layer) or each tile's own (faster; tones drift between tiles)",
    )  # fmt: skip
    p.add_argument(
        "--format", default="png", choices=list(FORMATS),
        help="output format: an image format for images (default png, lossless), a container "
        "for clips (default: the clip's own); same = each input's own",
    )  # fmt: skip
    p.add_argument(
        "--quality", type=quality, help="jpg/webp quality 1-100 (jpg default 95; webp lossless)"
    )
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.add_argument(
        "--skip-existing", action="store_true",
        help="keep existing output files and translate only the missing ones (to finish a run "
        "stopped by a full disk or Ctrl-C: every file is written whole or not at all)",
    )  # fmt: skip
    p.add_argument(
        "--max-megapixels", type=positive_float, default=64.0,
        help="larger images are skipped, read from their header (default 64)",
    )  # fmt: skip


def _add_video_options(p: argparse.ArgumentParser) -> None:
    """Video clips: steadier frames."""
    p.add_argument(
        "--temporal", action="store_true",
        help="video: steady each frame against the previous one along the optical flow "
        "(less flicker)",
    )  # fmt: skip
    p.add_argument(
        "--temporal-weight", type=float, default=0.6,
        help="with --temporal: the share of the previous frame, warped, kept where the flow "
        "is reliable (0-1, default 0.6; higher is steadier, and trails more)",
    )  # fmt: skip


def _add_engine_options(p: argparse.ArgumentParser) -> None:
    """What runs the network: PyTorch's settings and the CPU engine."""
    p.add_argument("--precision", default="fp32", choices=["auto", "fp32", "bf16", "fp16"],
                   help="autocast dtype (auto: bf16 on CUDA, fp32 on CPU)")  # fmt: skip
    p.add_argument("--conv-backend", default="auto", choices=["auto", "native", "nnpack"],
                   help="auto: NNPACK (Winograd/FFT) convolutions for fp32 on CPU")  # fmt: skip
    p.add_argument("--device", default="auto", choices=DEVICES)
    p.add_argument(
        "--engine", type=renamed, choices=ENGINES,
        help="on the CPU: auto (default) runs the generator's conversion on OpenVINO (the cpu "
        "extra), in bf16 on CPUs with AMX and in int8 elsewhere, where it keeps within 2 grey "
        "levels of fp32, else PyTorch; the conversion is made once per weights and cached, and "
        "later runs of the checkpoint start without PyTorch. pytorch, openvino (fp32), int8, "
        "bf16: that engine (or an error)",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from gan_style.inference.options import TranslateOptions
    from gan_style.inference.translate_files import translate_files
    from gan_style.video.clips import is_video

    options = TranslateOptions.from_values(args)
    report = translate_files(args.checkpoint, args.inputs, args.out, options)
    clips = sum(is_video(done.source) for done in report.written)
    images = len(report.written) - clips
    made = [f"{images} image(s)"] * bool(images or not clips) + [f"{clips} clip(s)"] * bool(clips)
    print(f"wrote {' and '.join(made)} to {args.out}")
    if report.skipped:
        print(
            f"skipped {len(report.skipped)} file(s), each named above with the reason",
            file=sys.stderr,
        )
        return 1
    return 0
