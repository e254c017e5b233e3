"""`gan-style stylize`: neural style transfer by optimisation (Gatys et al.)."""

from __future__ import annotations

import argparse
from pathlib import Path

from gan_style.cli.arguments import DEVICES, add_dataclass_options, dataclass_from_args
from gan_style.neural_style.options import StyleOptions, parse_floats


def add_parser(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("stylize", help="neural style transfer by optimisation (Gatys et al.)")
    p.add_argument("content", type=Path, help="the photo whose content is kept")
    p.add_argument("styles", type=Path, nargs="+", metavar="STYLE", help="style image(s)")
    p.add_argument("--out", type=Path, required=True, help="output image file")
    p.add_argument("--style-blend", type=parse_floats, help="weights of the styles, e.g. 0.7,0.3")
    p.add_argument("--vgg-weights", type=Path, help="local VGG-19 weights (torchvision layout)")
    p.add_argument("--device", default="auto", choices=DEVICES)
    add_dataclass_options(p, StyleOptions)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    import numpy as np
    from PIL import Image

    from gan_style.disk import check_writable
    from gan_style.evaluation.metrics import psnr, ssim
    from gan_style.image_io import load_image, save_image
    from gan_style.neural_style import VGGFeatures, stylize
    from gan_style.neural_style.optimize import save_snapshot
    from gan_style.runtime.device import pick_device

    check_writable(args.out.parent)
    content = load_image(args.content)
    styles = [load_image(p) for p in args.styles]
    options = dataclass_from_args(StyleOptions, args)
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
