"""Inference speed on this machine: engines side by side, and `translate` against the reference.

Engine rows time the paper generator's forward pass (batch 1) through each way this machine can
run it, with its peak memory and its agreement with fp32 PyTorch on the same 8-bit input:

- `torch-native`, `torch-nnpack`: PyTorch's own kernels (oneDNN) and NNPACK (`--conv-backend`);
- `torch-nnpack-lanes`: NNPACK with two images in flight on one core each (`translate`'s CPU
  default, `runtime/lanes.py`), timed over 4 images per repeat;
- `openvino-fp32`: the generator converted for OpenVINO (`inference/engines.py`, `--engine
  openvino`), on every core;
- `openvino-int8`: its int8 version (`inference/int8.py`), what `translate`, `gallery`,
  `evaluate` and the web page run by default on CPUs with 8-bit dot products (VNNI, AMX).

The end-to-end rows run whole processes, as a user would: the reference's `test.py` and
`gan-style translate` over the same images with the same reference-layout weights, timed from
start to exit, with each process's peak resident memory. The start-up row does so for one
256 px image, also with `--engine pytorch` and with the generator exported to ONNX
(`translate G.onnx`, no PyTorch). Where `translate`'s first run of a checkpoint converts its
generator, the rows time the runs after it, and report the first run apart.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from gan_style.inference.pixels import to_uint8
from gan_style.networks.reference import reference_generator
from gan_style.runtime.timing import measure_process, own_cache, peak_memory_gib, timed

if TYPE_CHECKING:
    from gan_style.inference.openvino_engine import OpenVinoGenerator

# The converted engines' rows, by the `--engine` name each asks `translate`'s door for.
OPENVINO_ENGINES = {"openvino-fp32": "openvino", "openvino-int8": "int8", "openvino-bf16": "bf16"}
ENGINES = ("torch-native", "torch-nnpack", "torch-nnpack-lanes", *OPENVINO_ENGINES)


def sample_images(folder: Path, size: int, count: int, seed: int = 0) -> list[Path]:
    """Smooth photo-like JPEGs (gradients and blobs), so that both programs decode real files."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    paths = []
    for i in range(count):
        phase = rng.uniform(0, 6, 3)
        image = np.stack([0.5 + 0.4 * np.sin(5 * (xx + yy * (c + 1)) + phase[c]) for c in range(3)])
        noise = rng.normal(0, 0.03, image.shape)
        pixels = (np.clip(image + noise, 0, 1) * 255).astype(np.uint8).transpose(1, 2, 0)
        paths.append(folder / f"img_{i:03d}.jpg")
        Image.fromarray(pixels).save(paths[-1], quality=95)
    return paths


# --- Engines --------------------------------------------------------------------------------------


def _to8(y: np.ndarray) -> np.ndarray:
    return to_uint8(y[0])


def _converted(generator: torch.nn.Module, folder: Path, engine: str) -> OpenVinoGenerator:
    """The paper generator converted through the engines' door, as `translate` converts it
    (`engine` openvino, int8 or bf16), cached in `folder` (not the user's cache), on every core."""
    from gan_style.inference.engines import converted_engine

    with own_cache(folder):
        return converted_engine(generator, 4, engine=engine)


def engine_row(engine: str, size: int, repeats: int = 3) -> dict:
    """One engine at `size` px: forward seconds (median of `repeats`), images per second, this
    process's peak memory, and agreement with fp32 PyTorch (mean grey-level difference, SSIM)."""
    from skimage.metrics import structural_similarity

    from gan_style.image_io import load_image
    from gan_style.inference import translate_images
    from gan_style.networks import build_generator, nnpack

    torch.manual_seed(0)
    generator = build_generator("resnet_9blocks", 3, 3, 64, "instance", False).eval()
    with tempfile.TemporaryDirectory() as tmp:
        images = [load_image(p) for p in sample_images(Path(tmp) / "in", size, 4)]
        inputs = [(im.astype(np.float32).transpose(2, 0, 1)[None] / 127.5 - 1) for im in images]
        with torch.inference_mode():
            truth = _to8(generator(torch.from_numpy(inputs[0])).numpy())
        # Each engine: a call to time, its output as 8-bit HxWxC for image 0, images per call.
        to8, per_call = _to8, 1
        if engine == "torch-nnpack-lanes":
            nnpack.use_nnpack(generator)
            to8, per_call = (lambda outputs: outputs[0]), len(images)

            def call() -> list[np.ndarray]:
                return translate_images(generator, images, lanes=2)
        elif engine.startswith("torch"):
            if engine == "torch-nnpack":
                nnpack.use_nnpack(generator)

            def call() -> np.ndarray:
                with torch.inference_mode():
                    return generator(torch.from_numpy(inputs[0])).numpy()
        else:
            converted = _converted(generator, Path(tmp) / "cache", OPENVINO_ENGINES[engine])

            def call() -> np.ndarray:
                return converted.forward(inputs[0])

        out = to8(call())  # also the warm-up
        times = timed(call, torch.device("cpu"), 0, repeats)
    sec = statistics.median(times) / per_call
    return {
        "kind": "engine",
        "engine": engine,
        "size": size,
        "sec_per_image": sec,
        "images_per_sec": 1 / sec,
        "peak_memory_mib": peak_memory_gib(torch.device("cpu")) * 1024,
        "mean_abs_diff_grey": float(np.abs(out.astype(int) - truth.astype(int)).mean()),
        "ssim_vs_fp32_torch": float(structural_similarity(out, truth, channel_axis=-1)),
        "repeats": repeats,
    }


# --- Whole processes against the reference --------------------------------------------------------


def reference_command(reference: Path, images: Path, weights: Path, out: Path, size: int,
                      count: int) -> list[str]:  # fmt: skip
    """The reference's own test script over `images` (its `--model test`: one generator)."""
    checkpoints = out / "checkpoints"
    (checkpoints / "bench").mkdir(parents=True, exist_ok=True)
    target = checkpoints / "bench" / "latest_net_G.pth"
    if not target.exists():
        target.symlink_to(weights.resolve())
    code = reference / "pytorch-CycleGAN-and-pix2pix"
    stubs = reference / "stubs"
    path = f"{stubs}:{stubs / 'dominate-2.9.1-py2.py3-none-any.whl'}"
    return [
        "env", f"PYTHONPATH={path}", sys.executable, str(code / "test.py"),
        "--dataroot", str(images), "--name", "bench", "--model", "test", "--no_dropout",
        "--checkpoints_dir", str(checkpoints), "--results_dir", str(out / "results"),
        "--num_test", str(count), "--load_size", str(size), "--crop_size", str(size),
    ]  # fmt: skip


def translate_command(images: Path, weights: Path, out: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "gan_style.cli", "translate", str(weights), str(images),
            "--out", str(out), "--overwrite", "--device", "cpu", *options]  # fmt: skip


def one_image_startup(reference: Path | None, repeats: int = 5, size: int = 256) -> dict:
    """Whole-process seconds for one `size` px image, `repeats` rounds alternating the programs:
    `translate` with the reference-layout weights, with them exported to ONNX, and the
    reference's test script when `reference` is given. Medians, all runs and peak memory."""
    from gan_style.export import export_generator
    from gan_style.inference import load_generators

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        weights = reference_generator(root / "reference_G.pth")
        onnx_file = export_generator(load_generators(weights), "AtoB", "onnx", root / "G.onnx")
        sample_images(root / "images", size, 1)
        commands = {
            "checkpoint": translate_command(root / "images", weights, root / "ours"),
            "checkpoint_pytorch": translate_command(
                root / "images", weights, root / "pytorch", "--engine", "pytorch"
            ),
            "onnx": translate_command(root / "images", onnx_file, root / "onnx"),
        }
        if reference is not None:
            commands["reference"] = reference_command(
                reference, root / "images", weights, root / "ref", size, 1
            )
        runs: dict[str, list[dict]] = {name: [] for name in commands}
        with own_cache(root / "cache"):
            # The first run may convert the generator; the timed ones are the runs after.
            first = measure_process(commands["checkpoint"])
            for _ in range(repeats):
                for name, command in commands.items():
                    runs[name].append(measure_process(command))
    row: dict = {"kind": "one_image_startup", "size": size, "repeats": repeats,
                 "checkpoint_first_run_sec": first["sec"]}  # fmt: skip
    for name, rs in runs.items():
        row[f"{name}_sec"] = statistics.median(r["sec"] for r in rs)
        row[f"{name}_secs"] = [r["sec"] for r in rs]
        row[f"{name}_peak_mib"] = statistics.median(r["peak_mib"] for r in rs)
    return row


def versus_reference(reference: Path, size: int, count: int, pairs: int = 3) -> dict:
    """`pairs` alternating runs of the reference's test script and `gan-style translate` over the
    same `count` images at `size` px with the same weights: medians and the paired ratio."""
    with tempfile.TemporaryDirectory() as tmp, own_cache(Path(tmp) / "cache"):
        root = Path(tmp)
        weights = reference_generator(root / "reference_G.pth")
        sample_images(root / "images", size, count)
        # The first run may convert the generator (once per weights); the pairs time the runs
        # after it, as a user's every run after the first.
        first = measure_process(translate_command(root / "images", weights, root / "first"))
        ours, theirs = [], []
        for i in range(pairs):
            theirs.append(measure_process(reference_command(
                reference, root / "images", weights, root / f"ref{i}", size, count)))  # fmt: skip
            ours.append(
                measure_process(translate_command(root / "images", weights, root / f"ours{i}"))
            )
    ratios = [t["sec"] / o["sec"] for t, o in zip(theirs, ours, strict=True)]
    return {
        "kind": "translate_vs_reference",
        "size": size,
        "images": count,
        "reference_sec": statistics.median(t["sec"] for t in theirs),
        "gan_style_sec": statistics.median(o["sec"] for o in ours),
        "speedup_median": statistics.median(ratios),
        "speedups": ratios,
        "reference_peak_mib": statistics.median(t["peak_mib"] for t in theirs),
        "gan_style_peak_mib": statistics.median(o["peak_mib"] for o in ours),
        "pairs": pairs,
        "gan_style_first_run_sec": first["sec"],
        "gan_style_first_run_peak_mib": first["peak_mib"],
    }
