"""Int8 versions of a generator: about twice as fast as fp32 on CPUs with 8-bit dot products
(AVX-512 VNNI, AVX-VNNI, AMX), within a bar of fp32's output.

Weights are quantised per output channel to int8 and the convolutions' inputs per tensor to
uint8, with ranges calibrated on images: dead-leaves probes for the engine's conversions
(`conversion.py`, checked against PyTorch before use), or the user's photos for
`gan-style export --int8 --calibration DIR`. ONNX Runtime's quantiser (in the `cpu` extra)
writes the result as a QDQ ONNX file; OpenVINO fuses it into int8 convolutions
(`openvino_engine.py`). Which convolutions stay fp32 is the first of two recipes (`RECIPES`)
whose result keeps to its bar. docs/performance.md has the measurements behind each choice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from gan_style.cpu import CPUINFO, cpu_flags
from gan_style.errors import ConfigError, DataError
from gan_style.inference.onnx_file import INT8_KEY, describe_onnx
from gan_style.inference.openvino_engine import INSTALL_HINT, OpenVinoGenerator
from gan_style.inference.output_phases import split_output_convolution
from gan_style.inference.pixels import network_input
from gan_style.inference.probes import leaves_probe

CALIBRATION_IMAGES = 8  # the first ones of `--calibration DIR`, by name
CALIBRATION_SIDE = 256  # px: larger images are centre-cropped (ranges, not layouts, matter)
# Only convolutions compute in int8, and their outputs stay float: a norm divides each channel's
# quantisation error by that channel's spread, so quantised norms drift far from fp32.
QUANTISED = ["Conv", "ConvTranspose"]
# The bar a converted network is held to against fp32 PyTorch: grey levels (of 255) on average,
# and the lowest SSIM.
MEAN_GREY = 2.0
SSIM = 0.99
# Recipes (`kept_in_fp32`), the fastest first: a converted network takes the first whose check
# it passes. The fast one must pass with a margin on the mean (FAST_MEAN_GREY), since the check
# sees probes, not the user's photos.
RECIPES = ("fast", "careful")
FAST_MEAN_GREY = 1.5
# px: the calibration probes of a converted network (larger probes have larger extremes, which
# widen the ranges, and cost the calibration more memory).
PROBE_CALIBRATION_SIDE = 128


def calibration_images(
    folder: Path | None, channels: int, side: int = CALIBRATION_SIDE
) -> tuple[list[np.ndarray], str]:
    """Up to CALIBRATION_IMAGES 8-bit images to calibrate on, and where they came from: the
    readable images of `folder` (unreadable ones are passed over), centre crops of at most
    `side` px a side, else four dead-leaves probes (`probes.leaves_probe`) of
    PROBE_CALIBRATION_SIDE px, for `export --int8` as for the engine.

    Ranges from leaves probes cover the leaves probes the check judges on (docs/performance.md).
    """
    from gan_style.image_io import find_images, read_image

    if folder is None:
        rng = np.random.default_rng(0)
        side = PROBE_CALIBRATION_SIDE
        probes = [leaves_probe(rng, side, side, channels) for _ in range(4)]
        return probes, "4 dead-leaves probe images"
    if not folder.is_dir():
        raise DataError(f"--calibration {folder} is not a folder; give a folder of photos")
    images = []
    for path in find_images(folder):
        try:
            image, _ = read_image(path, channels)
        except DataError:
            continue
        images.append(_centre_crop(image, side))
        if len(images) == CALIBRATION_IMAGES:
            break
    if not images:
        raise DataError(f"no readable images in {folder}; give a folder of photos to calibrate on")
    return images, f"{len(images)} image(s) of {folder}"


def _centre_crop(image: np.ndarray, side: int) -> np.ndarray:
    top, left = max(0, (image.shape[0] - side) // 2), max(0, (image.shape[1] - side) // 2)
    return image[top : top + side, left : left + side]


def fast_int8_cpu(cpuinfo: str = CPUINFO) -> bool:
    """Whether this CPU has 8-bit dot products (AVX-512 VNNI, AVX-VNNI or AMX)."""
    return bool(cpu_flags(cpuinfo) & {"avx512_vnni", "avx_vnni", "amx_int8"})


def weight_bits() -> int:
    """8, or 7 on CPUs without 8-bit dot products: there a pair of 8-bit products is summed in
    16 bits (AVX2's vpmaddubsw), which saturates with full-range weights; with 7-bit ones it
    cannot (255 x 63 x 2 < 32767). docs/performance.md has what each cost."""
    return 8 if fast_int8_cpu() else 7


def quantiser_available() -> bool:
    try:
        import onnxruntime.quantization  # noqa: F401
    except ImportError:
        return False
    return True


def tool_versions() -> tuple[str, str, int]:
    """The versions an int8 file depends on, and its weights' bits (the cache's key holds
    them)."""
    import onnxruntime

    from gan_style.inference.openvino_engine import import_openvino

    return onnxruntime.__version__, import_openvino().get_version(), weight_bits()


def quantize(
    fp32: Path, out: Path, images: list[np.ndarray], multiple: int, recipe: str = "careful"
) -> None:
    """Write the int8 (QDQ) version of the one-input ONNX file `fp32` to `out`, with the
    convolutions `recipe` names in fp32 (`fp32`'s last convolution is rewritten in place first:
    `output_phases.py`)."""
    if not quantiser_available():
        raise ConfigError(f"int8 needs ONNX Runtime's quantiser: {INSTALL_HINT}")
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Images(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter([{"image": network_input(image, multiple)} for image in images])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.items, None)

    split_output_convolution(fp32, multiple)  # 4x faster on OpenVINO, outputs unchanged
    # Without ONNX Runtime's pre-processing (`quant_pre_process`), which took 700 MB more for
    # the paper generator and changed neither its speed nor its agreement; the quantiser's
    # warning that it was skipped (on the root logger) does not concern users.
    logging.disable(logging.WARNING)
    try:
        quantize_static(
            str(fp32), str(out), Images(), quant_format=QuantFormat.QDQ, per_channel=True,
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
            op_types_to_quantize=QUANTISED, nodes_to_exclude=kept_in_fp32(fp32, recipe),
            reduce_range=weight_bits() == 7,
            extra_options={"OpTypesToExcludeOutputQuantization": QUANTISED},
        )  # fmt: skip
    finally:
        logging.disable(logging.NOTSET)


def kept_in_fp32(path: Path, recipe: str = "careful") -> list[str]:
    """The convolutions that stay fp32. careful: the first (it reads the image), the
    downsampling ones, the three after those, the first upsampling one and the last (it writes
    the image); fast: all but the three after the downsampling ones (`RECIPES`).

    An error early on passes through every later layer, and the last one writes the image:
    docs/performance.md has what each layer cost, measured one at a time.
    """
    import onnx

    if recipe not in RECIPES:
        raise ValueError(f"unknown int8 recipe {recipe!r}; choose {', '.join(RECIPES)}")

    nodes = [n for n in onnx.load(str(path)).graph.node if n.op_type in QUANTISED]
    convolutions = [n for n in nodes if n.op_type == "Conv"]
    strided = [
        n.name for n in convolutions
        if any(a.name == "strides" and max(a.ints) > 1 for a in n.attribute)
    ]  # fmt: skip
    early = [n.name for n in convolutions[1:] if n.name not in strided][:3]
    upsampling = [n.name for n in nodes if n.op_type == "ConvTranspose"][:1]
    first, last = [n.name for n in convolutions[:1]], [n.name for n in convolutions[1:][-1:]]
    kept = first + strided + (early if recipe == "careful" else []) + upsampling + last
    return list(dict.fromkeys(kept))  # a small network's last may be among the early ones


def agreement(
    fp32: Path, quantised: Path, images: list[np.ndarray], threads: int
) -> dict[str, float]:
    """How far the int8 file's outputs are from the fp32 file's on `images`, both on OpenVINO
    (whose fp32 matches PyTorch within rounding)."""
    reference, approximate = OpenVinoGenerator(fp32, threads), OpenVinoGenerator(quantised, threads)
    return agreement_of([(reference.translate(im), approximate.translate(im)) for im in images])


def agreement_of(pairs: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    """The mean absolute grey-level difference and the lowest SSIM of (fp32, int8) 8-bit
    output pairs."""
    from skimage.metrics import structural_similarity

    differences, similarities = [], []
    for expected, got in pairs:
        differences.append(np.abs(expected.astype(np.float32) - got.astype(np.float32)).mean())
        if min(expected.shape[:2]) >= 7:  # SSIM's window; smaller images are not judged by it
            similarities.append(
                structural_similarity(expected, got, channel_axis=-1, data_range=255)
            )
    return {"mean_grey": float(np.mean(differences)), "ssim": float(min(similarities, default=1))}


def metadata(found: dict[str, float], source: str, recipe: str = "careful") -> dict[str, str]:
    """The metadata entry of an int8 file: its agreement, what it was measured on, which
    convolutions stayed fp32, and its weights' bits."""
    described = {**found, "calibration": source, "recipe": recipe, "weight_bits": weight_bits()}
    return {INT8_KEY: json.dumps(described)}


def quantize_by_recipes(
    fp32: Path,
    out: Path,
    images: list[np.ndarray],
    multiple: int,
    described: dict[str, str],
    source: str,
    measure: Callable[[Path], dict[str, float]],
) -> tuple[str, dict[str, float], bool]:
    """Quantise `fp32` into `out` by each recipe of `RECIPES`, fastest first, until `measure`
    finds the result within that recipe's bar (MEAN_GREY and SSIM; the fast one keeps a margin,
    FAST_MEAN_GREY): the recipe last used, what it measured, and whether that kept to its bar.
    `out` carries `described`, the calibration `source`, the recipe and the measurement."""
    for recipe in RECIPES:
        bar = min(MEAN_GREY, FAST_MEAN_GREY) if recipe == "fast" else MEAN_GREY
        quantize(fp32, out, images, multiple, recipe)
        # Marked int8 before measuring, so that it is measured on the runtime `translate` uses.
        describe_onnx(out, described | metadata({}, source, recipe))
        found = measure(out)
        describe_onnx(out, described | metadata(found, source, recipe))
        if found["mean_grey"] <= bar and found["ssim"] >= SSIM:
            return recipe, found, True
    return recipe, found, False
