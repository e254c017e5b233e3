"""`make bench`: training and inference speed of the CycleGAN paper model, printed as JSON.

Each measured configuration runs in a fresh process so that its peak memory (RSS on CPU,
peak allocated on CUDA) is its own. Times exclude warm-up and are medians of repeats.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from gan_style.config import SHIPPED_EXPERIMENTS, Config, load_config
from gan_style.models import build_model, model_class
from gan_style.networks import nnpack
from gan_style.runtime import speed
from gan_style.runtime.device import pick_device
from gan_style.runtime.timing import peak_memory_gib, timed
from gan_style.training.iteration import GanIteration


def paper_config(
    size: int, batch: int, precision: str, channels_last: bool, experiment: str = "_cyclegan"
) -> Config:
    """The paper settings of a shipped experiment (`_cyclegan`: the CycleGAN paper's model,
    `_cut`: CUT's) at `size` px."""
    cfg = load_config(str(SHIPPED_EXPERIMENTS / f"{experiment}.yaml"))
    cfg = model_class(cfg.model.name).prepare_config(cfg)
    cfg.name = "bench"
    cfg.data.crop_size, cfg.data.load_size = size, size
    cfg.train.batch_size, cfg.train.precision = batch, precision
    cfg.train.channels_last = channels_last
    return cfg


def matmul_rate(device: torch.device, dtype: torch.dtype, n: int = 2048, repeats: int = 5) -> float:
    """GFLOP/s of an n x n matrix product: the machine's reference rate."""
    a, b = (
        torch.randn(n, n, device=device, dtype=dtype),
        torch.randn(n, n, device=device, dtype=dtype),
    )
    times = timed(lambda: a @ b, device, 2, repeats)
    return 2 * n**3 / statistics.median(times) / 1e9


def conv_rate(device: torch.device, dtype: torch.dtype, repeats: int = 5) -> float:
    """GFLOP/s of a 3x3 256-channel convolution at 64x64: the generator's main layer."""
    conv = torch.nn.Conv2d(256, 256, 3, padding=1, bias=False).to(device, dtype)
    x = torch.randn(1, 256, 64, 64, device=device, dtype=dtype)
    with torch.no_grad():
        times = timed(lambda: conv(x), device, 2, repeats)
    return 2 * 256 * 256 * 9 * 64 * 64 / statistics.median(times) / 1e9


def one_train(
    size: int,
    batch: int,
    precision: str,
    channels_last: bool,
    conv_backend: str,
    device: torch.device,
    warmup: int,
    repeats: int,
    experiment: str = "_cyclegan",
) -> dict:
    """One configuration of a full training iteration: both generator and discriminator steps."""
    torch.manual_seed(0)
    cfg = paper_config(size, batch, precision, channels_last, experiment)
    model = build_model(cfg).to(device)
    layout = torch.channels_last if channels_last else torch.contiguous_format
    iteration = GanIteration.build(model, cfg.train, device)
    batch_data = {
        k: (torch.rand(batch, 3, size, size, device=device) * 2 - 1).contiguous(
            memory_format=layout
        )
        for k in ("A", "B")
    }

    def step() -> None:
        iteration(batch_data)

    # Counted with direct convolutions: Winograd/FFT rates are then effective rates.
    with FlopCounterMode(display=False) as counter:
        step()
    flops = counter.get_total_flops()
    conv_backend = speed.prepare_networks(
        [*model.generators, *model.discriminators, *model.fixed_networks],
        channels_last,
        False,
        conv_backend,
        device,
        training=True,
    )
    times = timed(step, device, warmup, repeats)
    sec = statistics.median(times)
    return {
        "kind": "train",
        "model": cfg.model.name,
        "size": size,
        "batch": batch,
        "precision": iteration.precision,
        "channels_last": channels_last,
        "conv_backend": conv_backend,
        "sec_per_iter": sec,
        "images_per_sec": batch / sec,
        "flops_per_iter": flops,
        "gflops_per_sec": flops / sec / 1e9,
        "peak_memory_gib": peak_memory_gib(device),
        "repeats": repeats,
    }


def one_infer(
    size: int,
    precision: str,
    channels_last: bool,
    conv_backend: str,
    device: torch.device,
    repeats: int,
) -> dict:
    """End-to-end folder translation (read JPEG, translate, write JPEG),."""
    from gan_style.inference import Generators
    from gan_style.inference.files import planned_outputs
    from gan_style.inference.options import TranslateOptions
    from gan_style.inference.translate_files import translate_paths

    torch.manual_seed(0)
    cfg = paper_config(size, 4, precision, channels_last)
    model = build_model(cfg).to(device).eval()
    precision = speed.resolve_precision(precision, device)
    gens = Generators(model.G_AB, model.G_BA, cfg, 0, Path("bench"), 4, precision=precision)
    conv_backend = speed.prepare_networks([model.G_AB], channels_last, False, conv_backend, device)
    with tempfile.TemporaryDirectory() as tmp:
        folder, out = Path(tmp) / "in", Path(tmp) / "out"
        folder.mkdir()
        rng = np.random.default_rng(0)
        from PIL import Image

        n = 8
        for i in range(n):
            Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(
                folder / f"{i}.jpg"
            )
        options = TranslateOptions(
            engine="pytorch", batch_size=4, progress=False, format="jpg", overwrite=True
        )
        times = timed(
            lambda: translate_paths(gens, planned_outputs([folder], out, "jpg", True), options),
            device,
            1,
            repeats,
        )
    sec = statistics.median(times)
    return {
        "kind": "translate_folder",
        "size": size,
        "images": n,
        "precision": precision,
        "channels_last": channels_last,
        "conv_backend": conv_backend,
        "images_per_sec": n / sec,
        "peak_memory_gib": peak_memory_gib(device),
        "repeats": repeats,
    }


def quality_row(steps: int, setting: str, values: tuple[str, str], seeds: int) -> dict:
    """A speed option must not cost quality: the demo's held-out paired SSIM after `steps`
    iterations with each of two values of `setting` (e.g. train.precision fp32 vs bf16).

    Any change of rounding sends a GAN on another trajectory, and one run's SSIM moves with
    it (measured: 0.48-0.55 over three seeds of the same fp32 run), so the row compares means
    over `seeds` seeds and reports the baseline's spread beside the difference.
    """
    from gan_style.config import load_config
    from gan_style.data.demo import build_demo_dataset
    from gan_style.evaluation.runner import HeldOutSet
    from gan_style.inference import load_generators
    from gan_style.training.loop import train

    with tempfile.TemporaryDirectory() as tmp:
        root = (
            Path("data/demo")
            if Path("data/demo/testB_paired").is_dir()
            else build_demo_dataset(Path(tmp) / "demo")
        )
        scores: dict[str, list[float]] = {value: [] for value in values}
        for seed in range(seeds):
            for value in values:
                overrides = [
                    f"data.root={root}",
                    f"log.runs_dir={tmp}/runs",
                    f"train.max_steps={steps}",
                    f"train.seed={seed}",
                    f"{setting}={value}",
                    "eval.every=0",
                ]
                cfg = load_config("demo", overrides)
                run_dir = train(cfg, run=f"{value}_seed{seed}")
                held_out = HeldOutSet.from_config(cfg, 24)
                scores[value].append(held_out.score(load_generators(run_dir))["ssim_AB"])
    means = {value: statistics.mean(scores[value]) for value in values}
    return {
        "kind": "quality",
        "experiment": "demo",
        "setting": setting,
        "steps": steps,
        "seeds": seeds,
        **{f"ssim_AB_{value}": scores[value] for value in values},
        **{f"mean_ssim_AB_{value}": means[value] for value in values},
        "difference_of_means": means[values[1]] - means[values[0]],
        f"spread_over_seeds_{values[0]}": max(scores[values[0]]) - min(scores[values[0]]),
    }


def machine(device: torch.device) -> dict:
    cpu = platform.processor()
    if Path("/proc/cpuinfo").is_file():
        names = [
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    return {
        "device": str(device),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name() if device.type == "cuda" else None,
        "torch": torch.__version__,
    }


def _child(args: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "gan_style.benchmark", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def available_engines() -> list[str]:
    """The inference engines this installation can run (see `inference_bench`)."""
    from gan_style.inference import int8, openvino_engine
    from gan_style.inference_bench import ENGINES

    usable = {
        "torch-nnpack": nnpack.available(),
        "openvino-fp32": openvino_engine.available(),
        "openvino-int8": openvino_engine.available() and int8.quantiser_available(),
        "openvino-bf16": openvino_engine.available(),
    }
    return [e for e in ENGINES if usable.get(e, True)]


QUALITY_STEPS = 600  # per quality row, without --quick


def quality_steps(given: int | None, quick: bool) -> int:
    """Training steps per quality row: as given, else none with --quick (the rows train for
    minutes, most of what made `make bench ARGS=--quick` take over 16 on 2 cores)."""
    if given is not None and given < 0:
        raise SystemExit("gan-style bench: --quality-steps must be 0 (no quality rows) or more")
    if given is None:
        return 0 if quick else QUALITY_STEPS
    return given


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gan-style bench", description=__doc__)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    parser.add_argument(
        "--quick", action="store_true", help="128 px and batch 1 only; fewer repeats"
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per row (median)")
    parser.add_argument(
        "--quality-steps", type=int, default=None,
        help=f"training steps per quality row (default {QUALITY_STEPS}, with --quick 0); 0 skips "
        "them",
    )  # fmt: skip
    parser.add_argument(
        "--quality-seeds", type=int, default=3, help="seeds per value in the quality rows"
    )
    parser.add_argument(
        "--reference", type=Path,
        help="the reference code's folder (pytorch-CycleGAN-and-pix2pix/ and stubs/ inside, e.g. "
        "../shared/reference): adds whole-process translate rows, the reference's test script "
        "against gan-style translate",
    )  # fmt: skip
    # Internal: one configuration per process, as a JSON object of one_train/one_infer's
    # arguments (e.g. {"kind": "train", "size": 128, "batch": 1, "channels_last": false, ...}).
    parser.add_argument(
        "--video-checkpoint", type=Path,
        help="the video rows' model (default: the paper generator with random weights; give a "
        "trained run to measure steadiness)",
    )  # fmt: skip
    parser.add_argument(
        "--video-photo", type=Path,
        help="the photo the video rows' clip pans over (default: scikit-image's cat)",
    )  # fmt: skip
    parser.add_argument("--no-video", action="store_true", help="leave out the video rows")
    parser.add_argument("--one", type=json.loads, help=argparse.SUPPRESS)
    return parser


def run_one(spec: dict, device: torch.device, repeats: int) -> dict:
    """The row of one configuration, in this process."""
    spec = dict(spec)
    kind = spec.pop("kind")
    if kind == "train":
        return one_train(**spec, device=device, warmup=1, repeats=repeats)
    if kind == "engine":
        from gan_style.inference_bench import engine_row

        return engine_row(**spec, repeats=repeats)
    return one_infer(**spec, device=device, repeats=repeats)


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    for name in ("repeats", "quality_seeds"):
        if getattr(args, name) < 1:
            raise SystemExit(f"gan-style bench: --{name.replace('_', '-')} must be 1 or more")
    args.quality_steps = quality_steps(args.quality_steps, args.quick)
    device = pick_device(args.device)
    if args.one:
        print(json.dumps(run_one(args.one, device, args.repeats)))
        return

    bf16 = device.type != "cpu" or speed.cpu_bf16_supported()
    dtypes = (("fp32", torch.float32), ("bf16", torch.bfloat16))[: 2 if bf16 else 1]
    rates = {f"matmul_gflops_{name}": matmul_rate(device, dtype) for name, dtype in dtypes}
    rates |= {f"conv3x3_gflops_{name}": conv_rate(device, dtype) for name, dtype in dtypes}
    sizes, batches = ((128,), (1,)) if args.quick else ((128, 256), (1, 4))
    precisions = ("fp32", "bf16", "fp16") if device.type == "cuda" else ("fp32", "bf16")[: 1 + bf16]
    # NNPACK rows where it can run: fp32 on CPU.
    nnpack_too = device.type == "cpu" and nnpack.available()
    variants = [(p, "native") for p in precisions] + [("fp32", "nnpack")] * nnpack_too
    common = ["--device", args.device, "--repeats", str(1 if args.quick else args.repeats)]

    def child(**spec: object) -> dict:
        return _child(["--one", json.dumps(spec), *common])

    rows = []
    for size in sizes:
        for batch in batches:
            for precision, backend in variants:
                row = child(kind="train", size=size, batch=batch, precision=precision,
                            channels_last=False, conv_backend=backend)  # fmt: skip
                rate_of = "bf16" if row["precision"] != "fp32" else "fp32"
                row["fraction_of_matmul_rate"] = (
                    row["gflops_per_sec"] / rates[f"matmul_gflops_{rate_of}"]
                )
                row["fraction_of_conv_rate"] = (
                    row["gflops_per_sec"] / rates[f"conv3x3_gflops_{rate_of}"]
                )
                rows.append(row)
    # CUT and FastCUT beside CycleGAN: one generator and one discriminator instead of two each.
    precision, backend = variants[-1]  # on CPU the fastest backend, NNPACK where it exists
    for experiment in ("_cut", "horse2zebra_fastcut"):
        for size in sizes:
            row = child(kind="train", experiment=experiment, size=size, batch=1,
                        precision=precision, channels_last=False, conv_backend=backend)  # fmt: skip
            rows.append(row)
    for size in (256,) if args.quick else (256, 512):
        for precision, backend in variants:
            rows.append(child(kind="infer", size=size, precision=precision, channels_last=False,
                              conv_backend=backend))  # fmt: skip
    if device.type == "cpu":  # inference engines, one process each (its own peak memory)
        for size in (256,) if args.quick else (256, 512):
            for engine in available_engines():
                rows.append(child(kind="engine", engine=engine, size=size))
    if device.type == "cpu":
        from gan_style.inference_bench import one_image_startup

        rows.append(one_image_startup(args.reference, 1 if args.quick else 5))
    if args.reference:
        from gan_style.inference_bench import versus_reference

        runs = ((256, 8, 1),) if args.quick else ((256, 50, 3), (512, 20, 3))
        rows += [versus_reference(args.reference, size, n, pairs) for size, n, pairs in runs]
    if device.type == "cpu" and not args.no_video and importlib.util.find_spec("av"):
        from gan_style.video_bench import video_rows

        rows += video_rows(args.video_checkpoint, args.video_photo, args.quick)
    if args.quality_steps and bf16:
        rows.append(
            quality_row(args.quality_steps, "train.precision", ("fp32", "bf16"), args.quality_seeds)
        )
    if args.quality_steps and nnpack_too:
        rows.append(
            quality_row(
                args.quality_steps, "train.conv_backend", ("native", "nnpack"), args.quality_seeds
            )
        )
    notes = (
        [] if bf16 else ["bf16 rows skipped: this CPU has no fast bf16 kernels (AVX-512 BF16/AMX)"]
    )
    if nnpack_too:
        notes.append(
            "nnpack rows: FLOPs are those of direct convolution, so their GFLOP/s and fractions "
            "are effective rates (Winograd/FFT do fewer multiplications)"
        )
    result = {"machine": machine(device) | {"bf16_kernels": bf16}, "rates": rates, "results": rows}
    print(json.dumps(result | {"notes": notes}, indent=2))


if __name__ == "__main__":
    main()
