"""Int8 versions of a generator: about twice as fast as fp32 on CPUs with 8-bit dot products.

On the 2-core Intel Xeon (Ice Lake, AVX-512 VNNI) development machine the paper generator
took 0.19-0.20 s per 256 px image in int8 on OpenVINO against 0.35-0.41 s in fp32 on MNN, the
fastest fp32 engine there, at 0.5-1.5 grey levels from fp32 on average (SSIM 0.995 at least) on
landscape photos and paintings (README "Translating on an ordinary CPU"). Which convolutions
stay fp32 is the first of two recipes (`RECIPES`) whose result keeps to its bar: weights trained
for 300 steps kept to the fast one's, in 0.13 s per image.

Weights are quantised per output channel to int8 and the convolutions' inputs per tensor to
uint8, with ranges calibrated on images: dead-leaves probes for the engine `translate` picks
(`engines.convert_int8`, checked against PyTorch before use), or the user's photos for
`gan-style export --int8 --calibration DIR`. ONNX Runtime's quantiser writes the result as a
QDQ ONNX file, which any runtime reads; OpenVINO fuses it into int8 convolutions
(`openvino_engine.py`).
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from gan_style.errors import DataError, GanStyleError
from gan_style.inference.onnx_engine import INT8_KEY, MULTIPLE_KEY, describe_onnx, network_input
from gan_style.inference.openvino_engine import open_exported
from gan_style.inference.output_phases import split_output_convolution
from gan_style.inference.probes import leaves_probe

CALIBRATION_IMAGES = 8  # the first ones of `--calibration DIR`, by name
CALIBRATION_SIDE = 256  # px: larger images are centre-cropped (ranges, not layouts, matter)
# Only convolutions compute in int8, and their outputs stay float: quantising every tensor (the
# norms' too) took the paper generator 0.11 s at 256 px but 5.8 grey levels from fp32 (SSIM
# 0.96), since a norm divides each channel's quantisation error by that channel's spread.
QUANTISED = ["Conv", "ConvTranspose"]
# The bar a converted network is held to against fp32 PyTorch, the one the issue set for any
# default output: grey levels (of 255) on average, and the lowest SSIM.
MEAN_GREY = 2.0
SSIM = 0.99
# Recipes (`kept_in_fp32`), the fastest first: a converted network takes the first whose check
# it passes. The fast one must pass with a margin on the mean: on the paper generator with
# random weights it measured 1.93 grey levels on the check's probes and 1.86-1.87 on photos,
# too close to the bar to trust on other photos; with weights trained for 300 steps, 1.08 on
# the probes and 0.55-0.69 on photos, as close to fp32 as the careful recipe (0.54-0.68) in
# 0.13 s per 256 px image instead of 0.18-0.19.
RECIPES = ("fast", "careful")
FAST_MEAN_GREY = 1.5
# px: the calibration probes of a converted network; at 256 px ONNX Runtime's calibration took
# 440 MB more (1,613 against 1,173 MiB for converting the paper generator) for no better
# agreement.
PROBE_CALIBRATION_SIDE = 128
# A staged conversion (`engines.stage_int8`): the network as ONNX, the check's probes with
# PyTorch's outputs, and what `finish_staged` needs to know.
STAGED_FP32 = "g.onnx"
_STAGED_CHECK = "check.npz"
_STAGED_META = "staged.json"


def calibration_images(
    folder: Path | None, channels: int, side: int = CALIBRATION_SIDE
) -> tuple[list[np.ndarray], str]:
    """Up to CALIBRATION_IMAGES 8-bit images to calibrate on, and where they came from: the
    readable images of `folder` (unreadable ones are passed over), centre crops of at most
    `side` px a side, else four dead-leaves probes (`probes.leaves_probe`) of
    PROBE_CALIBRATION_SIDE px, for `export --int8` as for the engine.

    Ranges from leaves probes cover the leaves probes the check judges on: calibrated on smooth
    probes instead, the paper generator's int8 error on single leaves probes ranged from 1.2 to
    2.6 grey levels (clipped colours), against 1.5-1.7, for the same 1.5 on photos. Calibrated
    on four 256 px leaves probes (as `export --int8` was) it was 1.99-2.07 on each of 10 leaves
    probes, 4 of them those, against 1.42-1.51 calibrated on 128 px ones (larger probes have
    larger extremes, which widen the ranges).
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


def quantiser_available() -> bool:
    try:
        import onnxruntime.quantization  # noqa: F401
    except ImportError:
        return False
    return True


def tool_versions() -> tuple[str, str]:
    """The versions an int8 file depends on (the cache's key holds them)."""
    import onnxruntime

    from gan_style.inference.openvino_engine import import_openvino

    return onnxruntime.__version__, import_openvino().get_version()


def quantize(
    fp32: Path, out: Path, images: list[np.ndarray], multiple: int, recipe: str = "careful"
) -> None:
    """Write the int8 (QDQ) version of the one-input ONNX file `fp32` to `out`, with the
    convolutions `recipe` names in fp32 (`fp32`'s last convolution is rewritten in place first:
    `output_phases.py`)."""
    if not quantiser_available():
        raise GanStyleError("int8 needs ONNX Runtime's quantiser: pip install onnxruntime")
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
            extra_options={"OpTypesToExcludeOutputQuantization": QUANTISED},
        )  # fmt: skip
    finally:
        logging.disable(logging.NOTSET)


def kept_in_fp32(path: Path, recipe: str = "careful") -> list[str]:
    """The convolutions that stay fp32. careful: the first (it reads the image), the
    downsampling ones, the three after those, the first upsampling one and the last (it writes
    the image); fast: all but the three after the downsampling ones (`RECIPES`).

    Measured on photos, quantising one convolution at a time with all others fp32. With random
    weights, an error early on passes through every later layer: the first three residual
    convolutions and the first transposed one cost 1.03, 0.75, 0.81 and 0.62 grey levels
    alone, the other 17 0.17-0.54. With weights trained for 300 steps the last one cost 2.09
    grey levels (SSIM 0.953) alone and no residual one more than 0.07. Keeping the first, the
    downsampling and none of these fp32 gave 2.27 and 2.20 grey levels (SSIM 0.987 and 0.950);
    keeping all eight, 1.5 and 0.65 (README "Translating on an ordinary CPU"); keeping all but
    the three residual ones (fast), 1.87 and 0.69.
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
    fp32: Path, quantised: Path, images: list[np.ndarray], multiple: int, threads: int
) -> dict[str, float]:
    """How far the int8 file's outputs are from the fp32 file's on `images` (fp32 on ONNX
    Runtime, which matches PyTorch within rounding; int8 on the runtime `translate` uses)."""
    from gan_style.inference.onnx_engine import OnnxGenerator

    reference, approximate = OnnxGenerator(fp32, threads), open_exported(quantised, threads)
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
    """The metadata entry of an int8 file: its agreement, what it was measured on, and which
    convolutions stayed fp32."""
    return {INT8_KEY: json.dumps({**found, "calibration": source, "recipe": recipe})}


def read_agreement(path: Path) -> dict:
    """The agreement `export --int8` measured, from the file's metadata."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return json.loads({p.key: p.value for p in model.metadata_props}[INT8_KEY])


def write_staged(
    folder: Path, multiple: int, channels: int, probes: list[tuple[np.ndarray, np.ndarray]]
) -> None:
    """Store the check's probes and PyTorch's outputs on them beside the staged ONNX file."""
    arrays = {f"probe_{i}": probe for i, (probe, _) in enumerate(probes)}
    arrays |= {f"expected_{i}": expected for i, (_, expected) in enumerate(probes)}
    np.savez(folder / _STAGED_CHECK, **arrays)
    meta = {"multiple": multiple, "channels": channels, "probes": len(probes)}
    (folder / _STAGED_META).write_text(json.dumps(meta))


def set_staged_target(folder: Path, model: Path, refused: Path) -> None:
    """Where `finish_for_translate` puts the staged network once it passes, and where it
    records why not."""
    meta = json.loads((folder / _STAGED_META).read_text())
    target = {"model": str(model), "refused": str(refused)}
    (folder / _STAGED_META).write_text(json.dumps(meta | target))


def quantize_by_recipes(
    fp32: Path,
    out: Path,
    images: list[np.ndarray],
    multiple: int,
    described: dict[str, str],
    source: str,
    measure: Callable[[Path], dict[str, float]],
    mean_grey: float = MEAN_GREY,
    ssim: float = SSIM,
) -> tuple[str, dict[str, float], bool]:
    """Quantise `fp32` into `out` by each recipe of `RECIPES`, fastest first, until `measure`
    finds the result within that recipe's bar (the fast one's keeps a margin below
    `mean_grey`): the recipe last used, what it measured, and whether that kept to its bar.
    `out` carries `described`, the calibration `source`, the recipe and the measurement."""
    for recipe in RECIPES:
        bar = min(mean_grey, FAST_MEAN_GREY) if recipe == "fast" else mean_grey
        quantize(fp32, out, images, multiple, recipe)
        # Marked int8 before measuring, so that it is measured on the runtime `translate` uses.
        describe_onnx(out, described | metadata({}, source, recipe))
        found = measure(out)
        describe_onnx(out, described | metadata(found, source, recipe))
        if found["mean_grey"] <= bar and found["ssim"] >= ssim:
            return recipe, found, True
    return recipe, found, False


def finish_staged(
    folder: Path,
    model: Path,
    threads: int,
    mean_grey: float | None = None,
    ssim: float | None = None,
) -> str | None:
    """Quantise a staged network (calibrated on probes) by the fastest recipe whose result
    keeps to its bar on OpenVINO against the PyTorch outputs staged with it, and move that to
    `model`: no PyTorch needed. The reason when none does (nothing is moved then), else None."""
    from gan_style.inference import mnn_engine

    mean_grey = MEAN_GREY if mean_grey is None else mean_grey
    ssim = SSIM if ssim is None else ssim
    meta = json.loads((folder / _STAGED_META).read_text())
    multiple, channels = int(meta["multiple"]), int(meta["channels"])
    quantised = folder / "g.int8.onnx"
    images, source = calibration_images(None, channels)
    try:
        _, found, within = quantize_by_recipes(
            folder / STAGED_FP32, quantised, images, multiple, {MULTIPLE_KEY: str(multiple)},
            source, lambda made: _staged_agreement(folder, made, threads, int(meta["probes"])),
            mean_grey, ssim,
        )  # fmt: skip
    except Exception as e:  # the quantiser raises many kinds for graphs it cannot handle
        return f"int8 quantisation failed: {str(e).splitlines()[0] if str(e) else e!r}"
    if not within:  # the careful recipe, held to the bar itself
        return (
            f"the int8 output differs from PyTorch's by {found['mean_grey']:.2f} grey levels "
            f"on average, SSIM {found['ssim']:.4f} (limits {mean_grey}, {ssim})"
        )
    mnn_engine.describe_converted(quantised, multiple, channels)
    mnn_engine.place_converted(quantised, model)
    return None


def _staged_agreement(folder: Path, quantised: Path, threads: int, probes: int) -> dict:
    """The int8 file on OpenVINO against the PyTorch outputs staged with it (`agreement_of`);
    its compiled model goes before the next recipe is quantised."""
    from gan_style.inference import openvino_engine

    converted = openvino_engine.load(quantised, threads)
    with np.load(folder / _STAGED_CHECK) as staged:
        pairs = [
            (staged[f"expected_{i}"], converted.translate(staged[f"probe_{i}"]))
            for i in range(probes)
        ]
    return agreement_of(pairs)


def finish_for_translate(folder: Path) -> Path | None:
    """Complete, in `translate`'s process without PyTorch, the conversion `engines.stage_int8`
    staged: the cached model, or None where it missed the bar (recorded in the cache, as
    `engines` records it) or the folder is no staged conversion. The folder goes either way."""
    from gan_style.runtime.files import write_atomic
    from gan_style.runtime.lanes import usable_cores

    try:
        meta = json.loads((folder / _STAGED_META).read_text())
        model, refused = Path(meta["model"]), Path(meta["refused"])
        problem = finish_staged(folder, model, usable_cores())
        if problem is None:
            return model
        write_atomic(refused, lambda f: f.write(problem.encode()))
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, GanStyleError):
        pass  # (OpenVINO raises RuntimeError) `translate` then converts as without staging
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return None
