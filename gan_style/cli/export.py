"""`gan-style export`: a generator as ONNX (fp32, int8 or marked for bf16) or TorchScript."""

from __future__ import annotations

import argparse
from pathlib import Path

from gan_style.cli.arguments import add_style_options, style_image


def add_parser(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("export", help="export a generator to ONNX or TorchScript")
    p.add_argument("checkpoint", type=Path, help="run folder, checkpoint or generator file")
    p.add_argument("--format", required=True, choices=["onnx", "torchscript"])
    p.add_argument("--direction", default="AtoB", choices=["AtoB", "BtoA"])
    p.add_argument("--out", type=Path, help="output file (default next to the checkpoint)")
    add_style_options(p)
    p.add_argument(
        "--style-input", action="store_true",
        help="multistyle: the style code is the network's second input",
    )  # fmt: skip
    p.add_argument(
        "--int8", action="store_true",
        help="an approximate int8 ONNX file: about 2x faster on CPUs with 8-bit dot products "
        "(README 'The CPU engine')",
    )  # fmt: skip
    p.add_argument(
        "--bf16", action="store_true",
        help="the fp32 ONNX file marked to run in bf16: about 5x faster on CPUs with AMX, "
        "within a grey level of fp32 (elsewhere it runs in fp32)",
    )  # fmt: skip
    p.add_argument(
        "--calibration", type=Path, metavar="DIR",
        help="--int8: photos to calibrate on, like those you will translate; --bf16: to measure "
        "it on (default: photo-like probe images)",
    )  # fmt: skip
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    from gan_style.disk import check_writable
    from gan_style.errors import GanStyleError

    if args.out is not None:
        check_writable(args.out.parent, "export folder")  # before PyTorch loads
    from gan_style.export import FORMATS, export_generator, exported_network, input_channels
    from gan_style.inference import load_generators

    gens = load_generators(args.checkpoint)
    if args.out is None:
        check_writable(gens.source.parent, "export folder")
    image = style_image(args)
    style = gens.style_code(args.style, image) if args.style or image is not None else None
    out = args.out or gens.source.with_name(
        f"{gens.source.stem}_{args.direction}{FORMATS[args.format]}"
    )
    if (args.int8 or args.bf16) and args.out is None:
        out = out.with_name(f"{out.stem}_{'int8' if args.int8 else 'bf16'}{out.suffix}")
    export_generator(gens, args.direction, args.format, out, style, args.style_input,
                     args.int8, args.calibration, args.bf16)  # fmt: skip
    second = f", style N x {gens.style_embedding.embedding_dim}" if args.style_input else ""
    inputs = input_channels(exported_network(gens, args.direction))
    print(f"wrote {out}: input N x {inputs} x H x W in [-1, 1]{second}, "
          f"H and W multiples of {gens.multiple}")  # fmt: skip
    from gan_style.inference.translate_files import prepare_engine

    try:  # so that translate's first run of the checkpoint needs no conversion
        prepare_engine(gens.source)
    except (GanStyleError, OSError, RuntimeError) as e:  # a full cache disk, say
        print(f"note: {gens.source.name} was not converted for the CPU engine ({e}); "
              f"translate will convert it")  # fmt: skip
    if args.int8:
        from gan_style.inference.onnx_file import read_agreement

        found = read_agreement(out)
        print(f"int8 ({found['recipe']} recipe): {found['mean_grey']:.2f} grey levels from fp32 "
              f"on average, SSIM at least {found['ssim']:.3f}, on {found['calibration']} "
              f"(translate it with: gan-style translate {out} IMAGES --out DIR)")  # fmt: skip
    if args.bf16:
        from gan_style.inference.onnx_file import BF16_KEY, read_agreement

        found = read_agreement(out, BF16_KEY)
        print(f"bf16: {found['mean_grey']:.2f} grey levels from fp32 on average, SSIM at least "
              f"{found['ssim']:.3f}, on {found['calibration']} (where the CPU has AMX or AVX-512 "
              f"BF16; translate it with: gan-style translate {out} IMAGES --out DIR)")  # fmt: skip
