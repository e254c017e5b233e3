"""`gan-style quality --real DIR`: settings for a real style, compared at equal wall-clock.

A painting style has no ground truth, so each setting is scored by the offline style score
(`evaluation/style_score.py`): the deception rate of the dataset's domain classifier on the
held-out photos' translations, beside their content SSIM (luminance of photo and painting).
DIR is a CycleGAN dataset whose A side holds the paintings and B the photos, as monet2photo's
(`../shared/data/monet2photo-mini`: 61 Monet paintings); the photos are translated into paintings.

Every setting trains for the same minutes on this machine (its iterations per second measured
first, on 10 iterations), at 128 px with the networks at a quarter of the paper's width
(ngf = ndf = 16), so that several seeds of each fit in an afternoon on 2 CPU cores; the
learning rate stays constant over so short a run. Prints JSON: per setting the per-seed
values, mean, sample std and 95% interval, and the iterations; with `--pictures FILE`, a grid
of held-out photos through each setting's first seed.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from gan_style.config import Config, load_config
from gan_style.errors import EvaluationError
from gan_style.evaluation.metrics import luminance, ssim
from gan_style.evaluation.report import write_json
from gan_style.evaluation.statistics import interval
from gan_style.evaluation.style_score import load_judge
from gan_style.image_io import find_images, load_image, save_image
from gan_style.inference import load_generators, translate_images
from gan_style.training.loop import train

DIFFAUGMENT = "model.diffaugment=color,translation,cutout"
# The demo's measured quality keys (docs/quality.md) on the paper's generator and batch size.
QUALITY_KEYS = [
    "model.global_skip=true", "model.skip_filter=true", "model.long_skip=true",
    "loss.lambda_cycle=3.0", "loss.lambda_identity=0.0", "train.ema_decay=0.999",
]  # fmt: skip
# name -> (experiment, overrides)
SETTINGS: dict[str, tuple[str, list[str]]] = {
    "paper": ("monet", []),
    "paper+diffaugment": ("monet", [DIFFAUGMENT]),
    "quality": ("monet", QUALITY_KEYS),
    "quality+diffaugment": ("monet", [*QUALITY_KEYS, DIFFAUGMENT]),
    "cut": ("horse2zebra_cut", []),
    "cut+diffaugment": ("horse2zebra_cut", [DIFFAUGMENT]),
    "fastcut": ("horse2zebra_fastcut", []),
    "fastcut+diffaugment": ("horse2zebra_fastcut", [DIFFAUGMENT]),
}
SMALL = [
    "data.load_size=143", "data.crop_size=128", "model.ngf=16", "model.ndf=16",
    "eval.every=0", "log.every=1", "log.sample_every=100000", "train.prepare_cpu_engine=false",
    "train.save_every=100000", "data.num_workers=0",
]  # fmt: skip
PROBE_STEPS = 10
PICTURE_PHOTOS = 4


def photos_to_paintings(root: Path, view: Path) -> Path:
    """`root` with its sides swapped by links (A: the photos, B: the paintings), so that
    every model's AtoB, CUT's one direction included, paints the photos."""
    for split in ("train", "test"):
        for mine, theirs in (("A", "B"), ("B", "A")):
            link = view / f"{split}{mine}"
            if not link.exists():
                link.symlink_to((root / f"{split}{theirs}").resolve(), target_is_directory=True)
    return view


def config(name: str, view: Path, runs: Path, extra: list[str]) -> Config:
    experiment, overrides = SETTINGS[name]
    base = [f"data.root={view}", "data.dataset=", f"log.runs_dir={runs}", *SMALL]
    return load_config(experiment, [*base, *overrides, *extra])


def seconds_per_iteration(name: str, view: Path, runs: Path) -> float:
    """The median time of iterations 3 to PROBE_STEPS of a throwaway run."""
    cfg = config(name, view, runs, [f"train.max_steps={PROBE_STEPS}"])
    run_dir = train(cfg, run=f"probe_{name}")
    times = [e.value for e in EventAccumulator(str(run_dir)).Reload().Scalars("Time/sec_per_iter")]
    return statistics.median(times[2:] or times)


def run_settings(
    root: Path,
    names: list[str],
    seeds: int,
    minutes: float,
    out: Path | None = None,
    pictures: Path | None = None,
) -> dict:
    unknown = [n for n in names if n not in SETTINGS]
    if unknown:
        raise SystemExit(f"gan-style quality: unknown setting(s) {', '.join(unknown)}; "
                         f"choose from {', '.join(SETTINGS)}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        view = photos_to_paintings(root, Path(tmp))
        runs = Path(tmp) / "runs"
        try:
            judge = load_judge(view)
        except EvaluationError as e:
            raise SystemExit(f"gan-style quality: no style score for {root}: {e}") from None
        photos = [load_image(p) for p in find_images(view / "testA")]
        paintings = [load_image(p) for p in find_images(view / "testB")]
        result = {
            "dataset": str(root),
            "minutes_per_run": minutes,
            "seeds": seeds,
            "classifier_accuracy": judge.accuracy,
            "baselines": {
                "untouched photos": {
                    "deception": judge.deception_rate(photos, "B"),
                    "content_ssim": 1.0,
                },
                "held-out paintings": {"deception": judge.deception_rate(paintings, "B")},
            },
            "settings": {},
        }
        grid: list[list[np.ndarray]] = [photos[:PICTURE_PHOTOS]]
        for name in names:
            steps = max(1, int(minutes * 60 / seconds_per_iteration(name, view, runs)))
            rows = []
            for seed in range(seeds):
                cfg = config(name, view, runs, [f"train.max_steps={steps}", f"train.seed={seed}"])
                start = time.perf_counter()
                run_dir = train(cfg, run=f"{name}_seed{seed}")
                seconds = time.perf_counter() - start
                gens = load_generators(run_dir)
                fakes = translate_images(gens.G_AB, photos, gens.multiple)
                pairs = zip(photos, fakes, strict=True)
                content = [ssim(luminance(p), luminance(f)) for p, f in pairs]
                rows.append({"seed": seed, "steps": steps, "seconds": seconds,
                             "deception": judge.deception_rate(fakes, "B"),
                             "content_ssim": float(np.mean(content))})  # fmt: skip
                if seed == 0:
                    grid.append(fakes[:PICTURE_PHOTOS])
            result["settings"][name] = {
                "overrides": SETTINGS[name],
                "runs": rows,
                "deception": interval([r["deception"] for r in rows]),
                "content_ssim": interval([r["content_ssim"] for r in rows]),
            }
            if out is not None:
                write_json(result, out)
        if pictures is not None:
            save_picture_grid(grid, pictures)
    return result


def save_picture_grid(columns: list[list[np.ndarray]], path: Path, cell: int = 128) -> None:
    """Photos down the first column, each setting's paintings in the next ones."""
    from PIL import Image, ImageOps

    rows = len(columns[0])
    sheet = Image.new("RGB", (cell * len(columns), cell * rows), "white")
    for x, column in enumerate(columns):
        for y, image in enumerate(column):
            thumb = ImageOps.fit(Image.fromarray(image), (cell, cell), Image.BICUBIC)
            sheet.paste(thumb, (x * cell, y * cell))
    save_image(np.asarray(sheet), path)
