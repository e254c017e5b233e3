"""The `gan-style` command: train, data; errors for people print as one line."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import sys
import typing
from pathlib import Path
from typing import TYPE_CHECKING

from gan_style.errors import GanStyleError
from gan_style.neural_style.options import StyleOptions, parse_floats

if TYPE_CHECKING:
    import numpy as np
    import torch

    from gan_style.inference import Generators
    from gan_style.inference.files import Report
    from gan_style.inference.mnn_engine import FileIndex


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
    from gan_style.data.download import download_dataset

    folder = download_dataset(args.name, args.root, args.kind)
    print(f"dataset ready: {folder}")


def cmd_data_painters(args: argparse.Namespace) -> None:
    from gan_style.data.painters import build_painters_dataset

    folder = build_painters_dataset(args.root)
    print(f"painters dataset ready: {folder} (photos in trainA/, paintings in trainB/<style>/)")


def cmd_data_demo(args: argparse.Namespace) -> None:
    from gan_style.data.demo import build_demo_dataset

    folder = build_demo_dataset(args.root)
    print(f"demo dataset ready: {folder}")


def cmd_evaluate(args: argparse.Namespace) -> None:
    from gan_style.evaluation.report import SUMMARY_HEADERS, render_table, summary_rows
    from gan_style.evaluation.runner import Scoring, evaluate
    from gan_style.inference import load_generators
    from gan_style.runtime import checkpoint as ckpt
    from gan_style.runtime.device import pick_device

    device = pick_device(args.device)
    source = ckpt.resolve(args.source)
    out = args.out or source.parent / "eval" / f"{source.stem}_{args.split}"
    gens = load_generators(source, device, eval_mode=args.eval_mode)
    scoring = Scoring(
        fid=not args.no_fid,
        inception_weights=args.inception_weights,
        fid_reference=args.fid_reference,
        lpips=not args.no_lpips,
        lpips_weights=args.lpips_weights,
        verify_weights=not args.unverified_weights,
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


def cmd_compare(args: argparse.Namespace) -> None:
    from gan_style.evaluation.compare import compare_runs
    from gan_style.evaluation.report import render_table

    headers, rows = compare_runs(args.runs)
    print(render_table(headers, rows, args.format), end="")


def cmd_translate(args: argparse.Namespace) -> int:
    from gan_style.errors import ConfigError
    from gan_style.inference.mnn_engine import default_engine

    if args.checkpoint.suffix.lower() == ".onnx":
        return _translate_onnx(args)
    args.direction = args.direction or "AtoB"
    args.engine = args.engine or default_engine()
    if args.tile_overlap is not None and not (args.tile and args.tile_overlap < args.tile // 2):
        raise ConfigError("--tile-overlap needs --tile N and must be under N/2")
    index = _converted_index(args)
    if index is not None:
        _finish_staged(index)
    if index is not None and (report := _translate_converted(args, index)) is not None:
        return _translation_report(report, args.out)

    from gan_style.inference import load_generators
    from gan_style.inference.files import translate_paths
    from gan_style.runtime.device import pick_device
    from gan_style.runtime.speed import resolve_precision

    device = pick_device(args.device)
    batch_size = args.batch_size or (1 if device.type == "cpu" else 4)
    gens = load_generators(args.checkpoint, device, args.conv_backend, args.eval_mode, args.engine)
    gens.precision = resolve_precision(args.precision, device)
    style = gens.style_code(args.style, _style_image(args))
    if index is not None and device.type == "cpu" and gens.precision == "fp32":
        _convert_and_record(gens, args, style, index)
    report = translate_paths(
        gens, args.inputs, args.out, args.direction, batch_size, args.tile, style,
        fmt=args.format, quality=args.quality, overwrite=args.overwrite,
        max_pixels=int(args.max_megapixels * 1e6),
        whole_image_statistics=args.tile_norm == "whole", tile_overlap=args.tile_overlap,
        lanes=args.lanes,
    )  # fmt: skip
    return _translation_report(report, args.out)


# `translate` options under which a checkpoint may run as its cached MNN conversion, and the
# values that allow it (the others need PyTorch's generators).
MNN_OPTIONS = {
    "batch_size": (None, 1), "tile": (0,), "lanes": (None,), "precision": ("fp32", "auto"),
    "conv_backend": ("auto",), "style_image": (None,),
}  # fmt: skip


def _converted_index(args: argparse.Namespace) -> FileIndex | None:
    """Where this checkpoint's MNN conversion is recorded, if these options can use one."""
    from gan_style.inference.mnn_engine import FileIndex, cpu_only_machine
    from gan_style.inference.openvino_engine import fast_int8_cpu

    if args.engine == "pytorch" or any(
        getattr(args, name) not in accepted for name, accepted in MNN_OPTIONS.items()
    ):
        return None
    if args.device not in ("cpu", "auto") or (args.device == "auto" and not cpu_only_machine()):
        return None
    options = {"direction": args.direction, "style": args.style, "eval_mode": args.eval_mode,
               "engine": args.engine, "int8_cpu": fast_int8_cpu()}  # fmt: skip
    return FileIndex(args.checkpoint, options)


# Set by `console`: only the command itself, not a caller of `main`, may start itself again.
_restartable = False
RESTARTED = "GAN_STYLE_RESTARTED"
STAGED = "GAN_STYLE_STAGED_INT8"  # a conversion the first start staged (`engines.stage_int8`)


def _convert_and_record(
    gens: Generators, args: argparse.Namespace, style: torch.Tensor | None, index: FileIndex
) -> None:
    """A checkpoint's first `translate` on MNN: convert and record it, then (as the `gan-style`
    command) start again, without PyTorch. Translating in this process instead would keep
    PyTorch's libraries and the generator beside MNN's model: the first run of 50 images at
    256 px peaked at 1,039 MiB so, against 834 MiB for loading and converting alone."""
    from gan_style.inference.engines import cpu_engine, stage_int8

    generator = gens.pick(args.direction)
    restart = _restartable and not os.environ.get(RESTARTED)
    if restart and (staged := stage_int8(generator, gens.multiple, style, args.engine)):
        _start_again({STAGED: str(staged)})  # which finishes the int8 conversion without PyTorch
    converted = cpu_engine(generator, gens.multiple, style, args.engine)
    if converted is None:
        return
    index.record(converted.path)
    if restart:
        _start_again({})
    # else translated here: a caller of `main`, or a second start that found no record


def _start_again(environment: dict[str, str]) -> None:
    """This `gan-style` command again, in this process but without PyTorch's libraries."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.environ.update(environment | {RESTARTED: "1"})
    os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])


def _finish_staged(index: FileIndex) -> None:
    """After `_start_again`: complete the int8 conversion the first start staged, and record
    it for the checkpoint file. Where it misses the bar the checkpoint is loaded again, and
    `cpu_engine` finds that recorded and picks the next engine."""
    staged = os.environ.pop(STAGED, None)
    if staged is None or not os.environ.get(RESTARTED):
        return
    from gan_style.inference.int8 import finish_for_translate

    model = finish_for_translate(Path(staged))
    if model is not None:
        index.record(model)


def _translate_converted(args: argparse.Namespace, index: FileIndex) -> Report | None:
    """`translate` with the checkpoint's recorded conversion (MNN or int8), without starting
    PyTorch; None when there is none (or it no longer loads), and PyTorch loads the checkpoint."""
    from gan_style.errors import GanStyleError
    from gan_style.inference.files import planned_outputs, write_converted
    from gan_style.inference.mnn_engine import load_converted
    from gan_style.runtime.lanes import usable_cores

    model = index.lookup()
    if model is None:
        return None
    pairs = planned_outputs(args.inputs, args.out, args.format, args.overwrite)
    try:
        generator = load_converted(model, usable_cores(), len(pairs))
    except (GanStyleError, ImportError):  # its engine was uninstalled since, say
        return None
    return write_converted(
        generator, pairs, args.quality, int(args.max_megapixels * 1e6),
        description=f"translate {args.direction} ({generator.label})", lanes=generator.lanes,
    )  # fmt: skip


# Options of `translate` that only the PyTorch path has, with the values an ONNX file accepts.
TORCH_ONLY_OPTIONS = {
    "batch_size": (None,), "tile": (0,), "tile_overlap": (None,), "tile_norm": ("whole",),
    "precision": ("fp32",), "conv_backend": ("auto",), "device": ("auto", "cpu"),
    "style": (None,), "style_image": (None,), "eval_mode": (False,), "engine": (None,),
}  # fmt: skip


def _translate_onnx(args: argparse.Namespace) -> int:
    """`translate MODEL.onnx ...`: ONNX Runtime on the CPU, without loading PyTorch."""
    from gan_style.errors import ConfigError
    from gan_style.inference.files import translate_paths_onnx

    given = [name for name, accepted in TORCH_ONLY_OPTIONS.items()
             if getattr(args, name) not in accepted]  # fmt: skip
    if given:
        options = ", ".join("--" + name.replace("_", "-") for name in given)
        raise ConfigError(
            f"{options} need(s) a checkpoint: an ONNX file runs as exported, on the CPU "
            f"(give the run folder or checkpoint instead)"
        )
    report = translate_paths_onnx(
        args.checkpoint, args.inputs, args.out, args.direction, fmt=args.format,
        quality=args.quality, overwrite=args.overwrite,
        max_pixels=int(args.max_megapixels * 1e6), lanes=args.lanes,
    )  # fmt: skip
    return _translation_report(report, args.out)


def _translation_report(report: Report, out: Path) -> int:
    print(f"wrote {len(report.written)} image(s) to {out}")
    if report.skipped:
        print(
            f"skipped {len(report.skipped)} unreadable image(s), each named above", file=sys.stderr
        )
        return 1
    return 0


def _style_image(args: argparse.Namespace) -> np.ndarray | None:
    from gan_style.errors import ConfigError
    from gan_style.image_io import load_image

    if getattr(args, "style", None) and getattr(args, "style_image", None):
        raise ConfigError("give --style or --style-image, not both")
    return load_image(args.style_image) if getattr(args, "style_image", None) else None


def _at_least(low: int) -> typing.Callable[[str], int]:
    """An argparse type: an integer of at least `low`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be {low} or more, got {value}")
        return value

    return parse


def _tile_size(text: str) -> int:
    value = _at_least(0)(text)
    if 0 < value < 32:
        raise argparse.ArgumentTypeError(f"must be 0 (off) or at least 32 px, got {value}")
    return value


def _quality(text: str) -> int:
    value = _at_least(1)(text)
    if value > 100:
        raise argparse.ArgumentTypeError(f"must be 1 to 100, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def _add_eval_mode_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--eval-mode", action="store_true",
        help="batch norm with its running statistics and dropout off, instead of the pix2pix "
        "paper's test-time behaviour (test-batch statistics, dropout on)",
    )  # fmt: skip


def _add_style_options(p: argparse.ArgumentParser, blend: bool = True) -> None:
    what = "NAME or a blend NAME:W,NAME:W" if blend else "NAME"
    p.add_argument("--style", help=f"multistyle models: the style, {what}")
    if blend:
        p.add_argument("--style-image", type=Path, help="multistyle: use this painting's style")


def cmd_gallery(args: argparse.Namespace) -> None:
    from gan_style.gallery import build_gallery
    from gan_style.runtime.device import pick_device

    first = args.sources[0]
    out = args.out or (first if first.is_dir() else first.parent) / "gallery"
    index = build_gallery(
        args.sources, out, args.images, args.n, args.checkpoints, args.direction,
        str(pick_device(args.device)), args.style, _style_image(args), args.eval_mode,
    )  # fmt: skip
    print(f"gallery: {index} (open it in a browser; works offline)")
    print(f"contact sheet: {out / 'contact_sheet.png'}")


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def cmd_serve(args: argparse.Namespace) -> None:
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


def cmd_pretrained_download(args: argparse.Namespace) -> None:
    from gan_style.inference.pretrained import download_pretrained

    path = download_pretrained(args.name, args.root)
    print(f"weights ready: {path}  (use it with: gan-style translate {path} IMAGES --out DIR)")


def cmd_export(args: argparse.Namespace) -> None:
    from gan_style.export import FORMATS, export_generator, exported_network, input_channels
    from gan_style.inference import load_generators

    gens = load_generators(args.checkpoint)
    image = _style_image(args)
    style = gens.style_code(args.style, image) if args.style or image is not None else None
    out = args.out or gens.source.with_name(
        f"{gens.source.stem}_{args.direction}{FORMATS[args.format]}"
    )
    if args.int8 and args.out is None:
        out = out.with_name(f"{out.stem}_int8{out.suffix}")
    export_generator(gens, args.direction, args.format, out, style, args.style_input,
                     args.int8, args.calibration)  # fmt: skip
    second = f", style N x {gens.style_embedding.embedding_dim}" if args.style_input else ""
    inputs = input_channels(exported_network(gens, args.direction))
    print(f"wrote {out}: input N x {inputs} x H x W in [-1, 1]{second}, "
          f"H and W multiples of {gens.multiple}")  # fmt: skip
    if args.int8:
        from gan_style.inference.int8 import read_agreement

        found = read_agreement(out)
        print(f"int8 ({found['recipe']} recipe): {found['mean_grey']:.2f} grey levels from fp32 "
              f"on average, SSIM at least {found['ssim']:.3f}, on {found['calibration']} "
              f"(translate it with: gan-style translate {out} IMAGES --out DIR)")  # fmt: skip


def _add_dataclass_options(p: argparse.ArgumentParser, cls: type) -> None:
    """One option per field of `cls` (`style_weight` -> `--style-weight`), with the field's
    default, help, type and choices: the dataclass is the one declaration of both."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        meta = dict(f.metadata)
        help_text = meta.pop("help", None)
        default = f.default
        kind = meta.pop("type", None) or (type(default) if default is not None else float)
        if hints[f.name] is float:  # `--style-weight 1` is a float too
            kind = float
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        p.add_argument(
            f"--{f.name.replace('_', '-')}", dest=f.name, type=kind, default=default,
            help=f"{help_text} (default {shown})" if default is not None else help_text, **meta,
        )  # fmt: skip


def _dataclass_from_args(cls: type, args: argparse.Namespace) -> object:
    return cls(**{f.name: getattr(args, f.name) for f in dataclasses.fields(cls)})


def cmd_stylize(args: argparse.Namespace) -> None:
    import numpy as np
    from PIL import Image

    from gan_style.evaluation.metrics import psnr, ssim
    from gan_style.image_io import load_image, save_image
    from gan_style.neural_style import VGGFeatures, stylize
    from gan_style.neural_style.optimize import save_snapshot
    from gan_style.runtime.device import pick_device

    content = load_image(args.content)
    styles = [load_image(p) for p in args.styles]
    options = _dataclass_from_args(StyleOptions, args)
    vgg = VGGFeatures(
        [*options.content_layers, *options.style_layers], args.vgg_weights, options.pooling
    )
    result = stylize(
        content, styles, list(args.style_blend) if args.style_blend else None, options, vgg,
        pick_device(args.device), save_snapshot(args.out) if options.snapshot_every else None,
    )  # fmt: skip
    save_image(result.image, args.out)
    h, w = result.image.shape[:2]
    reference = np.asarray(Image.fromarray(content).resize((w, h), Image.BICUBIC))
    s, p = ssim(result.image, reference), psnr(result.image, reference)
    print(f"wrote {args.out} ({w}x{h}); against the content image: SSIM {s:.4f}, PSNR {p:.2f} dB")


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
        "--unverified-weights", action="store_true",
        help="accept Inception/AlexNet files that are not the official ones (scores are then "
        "marked standard_weights: false)",
    )  # fmt: skip
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument(
        "--batch-size", type=_at_least(1), help="images per pass (default 1 on CPU, 8 on GPUs)"
    )
    _add_style_options(p, blend=False)
    _add_eval_mode_option(p)
    p.set_defaults(func=cmd_evaluate)

    p = commands.add_parser("compare", help="one table of metrics and differing config keys")
    p.add_argument("runs", nargs="+", type=Path, help="run folders, e.g. runs/monet/*")
    p.add_argument("--format", default="text", choices=["text", "csv", "markdown"])
    p.set_defaults(func=cmd_compare)

    p = commands.add_parser("translate", help="translate image files and folders")
    p.add_argument(
        "checkpoint", type=Path,
        help="run folder, checkpoint, generator.pt, reference .pth, or an .onnx file from "
        "gan-style export (ONNX Runtime on the CPU, without loading PyTorch: fast start-up)",
    )  # fmt: skip
    p.add_argument("inputs", type=Path, nargs="+", metavar="INPUT", help="image files or folders")
    p.add_argument("--out", type=Path, required=True, help="output folder (same file names)")
    p.add_argument(
        "--direction", choices=["AtoB", "BtoA"],
        help="default AtoB (an .onnx file: the direction it was exported for)",
    )  # fmt: skip
    p.add_argument(
        "--batch-size", type=_at_least(1),
        help="images of one size per pass (default 1 on CPU, where larger batches measured "
        "slower and used more memory, 4 on GPUs)",
    )  # fmt: skip
    p.add_argument(
        "--lanes", type=_at_least(1),
        help="images in flight at once on CPU, each on a share of the cores (default 2 where "
        "there are 2 or more cores: measured 1.7x faster on 2 cores than one image at a time)",
    )  # fmt: skip
    p.add_argument(
        "--tile", type=_tile_size, default=0,
        help="translate images larger than N px in overlapping NxN tiles: bounded memory",
    )  # fmt: skip
    p.add_argument(
        "--tile-overlap", type=_at_least(0),
        help="px shared by neighbouring tiles (default N/4); wider is closer to the whole image",
    )  # fmt: skip
    p.add_argument(
        "--tile-norm", default="whole", choices=["whole", "tile"],
        help="with --tile, norm layers use the whole image's statistics (one more pass over "
        "the tiles per norm layer) or each tile's own (faster; tones drift between tiles)",
    )  # fmt: skip
    p.add_argument(
        "--format", default="png", choices=["png", "jpg", "webp", "same"],
        help="output format (default png, lossless; same = each input's own)",
    )  # fmt: skip
    p.add_argument(
        "--quality",
        type=_quality,
        help="jpg/webp quality 1-100 (jpg default 95; webp lossless)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.add_argument(
        "--max-megapixels", type=_positive_float, default=64.0,
        help="larger images are skipped, read from their header (default 64)",
    )  # fmt: skip
    p.add_argument("--precision", default="fp32", choices=["auto", "fp32", "bf16", "fp16"],
                   help="autocast dtype (auto: bf16 on CUDA, fp32 on CPU)")  # fmt: skip
    p.add_argument("--conv-backend", default="auto", choices=["auto", "native", "nnpack"],
                   help="auto: NNPACK (Winograd/FFT) convolutions for fp32 on CPU")  # fmt: skip
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument(
        "--engine", choices=["auto", "pytorch", "mnn", "int8"],
        help="on the CPU: auto (default; GAN_STYLE_ENGINE overrides) runs a conversion of the "
        "generator, made once per weights and cached: int8 on OpenVINO on CPUs with 8-bit dot "
        "products (VNNI) where it keeps within 2 grey levels of fp32, else fp32 on MNN where "
        "that converts it faithfully, else PyTorch; the next run of the same checkpoint starts "
        "without PyTorch. pytorch, mnn, int8: that engine (or an error)",
    )  # fmt: skip
    _add_style_options(p)
    _add_eval_mode_option(p)
    p.set_defaults(func=cmd_translate)

    p = commands.add_parser("gallery", help="HTML gallery of checkpoints or runs side by side")
    p.add_argument("sources", type=Path, nargs="+", metavar="RUN_DIR|CHECKPOINT")
    p.add_argument("--images", type=Path, help="images to translate (default: held-out testA/)")
    p.add_argument("--n", type=_at_least(1), default=16, help="number of images (default 16)")
    p.add_argument(
        "--checkpoints", default="all", help="one run's: all, latest, best, every:K, or names"
    )
    p.add_argument("--direction", default="AtoB", choices=["AtoB", "BtoA"])
    p.add_argument("--out", type=Path, help="output folder (default <run>/gallery)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    _add_style_options(p)
    _add_eval_mode_option(p)
    p.set_defaults(func=cmd_gallery)

    p = commands.add_parser("serve", help="a local web page: translate, compare, stylize")
    p.add_argument("sources", type=Path, nargs="+", metavar="RUN_DIR|CHECKPOINT")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=_at_least(1), default=7860, help="port (default 7860)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument(
        "--vgg-weights", type=Path, help="VGG-19 weights for the Stylize tab (default: download)"
    )
    p.set_defaults(func=cmd_serve)

    pretrained = commands.add_parser("pretrained", help="published CycleGAN generators")
    actions = pretrained.add_subparsers(dest="pretrained_command", required=True, metavar="ACTION")
    p = actions.add_parser("download", help="fetch a published generator (.pth)")
    p.add_argument("name", help="e.g. style_monet, horse2zebra, summer2winter_yosemite")
    p.add_argument(
        "--root", type=Path, default=Path("pretrained"), help="folder (default pretrained)"
    )
    p.set_defaults(func=cmd_pretrained_download)

    commands.add_parser("bench", help="speed benchmark as JSON (gan-style bench --help)")
    commands.add_parser(
        "quality", help="quality per variant over seeds, as JSON (gan-style quality --help)"
    )

    p = commands.add_parser("export", help="export a generator to ONNX or TorchScript")
    p.add_argument("checkpoint", type=Path, help="run folder, checkpoint or generator file")
    p.add_argument("--format", required=True, choices=["onnx", "torchscript"])
    p.add_argument("--direction", default="AtoB", choices=["AtoB", "BtoA"])
    p.add_argument("--out", type=Path, help="output file (default next to the checkpoint)")
    _add_style_options(p)
    p.add_argument(
        "--style-input", action="store_true",
        help="multistyle: the style code is the network's second input",
    )  # fmt: skip
    p.add_argument(
        "--int8", action="store_true",
        help="an approximate int8 ONNX file: about 3x faster on CPUs with 8-bit dot products "
        "(README 'Approximate int8 mode')",
    )  # fmt: skip
    p.add_argument(
        "--calibration", type=Path, metavar="DIR",
        help="--int8: photos to calibrate on, like those you will translate (default: "
        "photo-like probe images)",
    )  # fmt: skip
    p.set_defaults(func=cmd_export)

    p = commands.add_parser("stylize", help="neural style transfer by optimisation (Gatys et al.)")
    p.add_argument("content", type=Path, help="the photo whose content is kept")
    p.add_argument("styles", type=Path, nargs="+", metavar="STYLE", help="style image(s)")
    p.add_argument("--out", type=Path, required=True, help="output image file")
    p.add_argument("--style-blend", type=parse_floats, help="weights of the styles, e.g. 0.7,0.3")
    p.add_argument("--vgg-weights", type=Path, help="local VGG-19 weights (torchvision layout)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    _add_dataclass_options(p, StyleOptions)
    p.set_defaults(func=cmd_stylize)

    data = commands.add_parser("data", help="fetch or build datasets")
    data_commands = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    p = data_commands.add_parser("download", help="fetch an official CycleGAN or pix2pix dataset")
    p.add_argument("name", help="e.g. monet2photo, horse2zebra, facades, edges2shoes")
    p.add_argument(
        "--kind", choices=["cyclegan", "pix2pix"], help="collection (default: cyclegan if in both)"
    )
    p.add_argument("--root", type=Path, default=Path("data"), help="parent folder (default data)")
    p.set_defaults(func=cmd_data_download)
    p = data_commands.add_parser("painters", help="link the four painter sets for multistyle")
    p.add_argument("--root", type=Path, default=Path("data"), help="holds <style>2photo/ (data)")
    p.set_defaults(func=cmd_data_painters)
    p = data_commands.add_parser("demo", help="build the offline demo dataset")
    p.add_argument("--root", type=Path, default=Path("data/demo"), help="default data/demo")
    p.set_defaults(func=cmd_data_demo)
    return parser


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
        return 2
    return status or 0


# Commands that are done when they return: every file written and closed, no worker left.
QUICK_EXIT = ("translate", "gallery", "export")


def console() -> None:
    """The `gan-style` command. After a command in `QUICK_EXIT` it leaves without Python's
    interpreter teardown, which took 1.2 s once PyTorch was imported (the finalizers of its
    operator libraries) on the development CPU: a twentieth of translating 50 photos there.
    A reader that leaves early (`gan-style compare ... | head`) ends it with status 1 and no
    traceback; the files written so far stay."""
    global _restartable
    _restartable = True
    argv = sys.argv[1:]
    try:
        try:
            status = main(argv)
        finally:
            sys.stdout.flush()  # here, so that a reader who left shows up below, not at exit
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no complaint at exit
        sys.exit(1)
    if argv[:1] and argv[0] in QUICK_EXIT and "torch" in sys.modules:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        os._exit(status)
    sys.exit(status)


if __name__ == "__main__":
    console()
