"""`make quality`: translation quality per unit of compute, several seeds per variant.

Each variant is the demo experiment with a few overrides, trained with seeds 0..N-1 for its
own schedule (the demo's defaults: 1,150 iterations of 4 crops, in 0.74-0.83x the time of the
paper settings' 2,400 of one; see the README) or for `--steps` iterations each, and scored on
the demo's 24 held-out pairs (paired SSIM and PSNR of the 8-bit outputs); with
`../shared/data/monet2photo-mini` (or `--photos DIR`) present, its photos go through each run's
generator too and get a content SSIM (structure kept). Prints JSON: per variant the per-seed
values and iterations, mean, sample std, a 95% Student-t interval of the mean, and the mean
wall-clock of a run, beside the identity baseline (returning the input unchanged). A full run
takes hours: `--out FILE` keeps the result so far, and a rerun adds to it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from gan_style.config import Config, load_config, to_dict
from gan_style.data.demo import build_demo_dataset
from gan_style.evaluation.metrics import luminance, psnr, ssim
from gan_style.evaluation.report import write_json
from gan_style.evaluation.runner import HeldOutSet
from gan_style.evaluation.statistics import interval
from gan_style.image_io import find_images, load_image
from gan_style.inference import Generators, load_generators, translate_images
from gan_style.training.loop import train

# The demo's settings before the measured defaults of experiments/demo.yaml: the paper's
# generator and losses (with the demo's small networks, 34x34 PatchGAN and identity weight 1),
# one image per iteration and 6 + 6 epochs (2,400 iterations). Each single-option variant is
# measured against it.
PAPER = [
    "model.generator=resnet_6blocks", "model.global_skip=false", "model.skip_filter=false",
    "model.long_skip=false", "loss.lambda_cycle=10.0", "loss.lambda_identity=1.0",
    "train.ema_decay=0.0", "train.batch_size=1", "train.epochs=6", "train.epochs_decay=6",
]  # fmt: skip
SKIP_FILTER = ["model.global_skip=true", "model.skip_filter=true"]
# The demo's defaults before the long skip: global skip, skip filter, cycle 3, identity 0.1 and
# EMA, on the paper's six residual blocks, one image per iteration and 6 + 6 epochs.
SKIP_FILTER_DEFAULTS = [
    "model.generator=resnet_6blocks", "model.long_skip=false", "loss.lambda_identity=0.1",
    "train.batch_size=1", "train.epochs=6", "train.epochs_decay=6",
]  # fmt: skip
# The demo's defaults before batches of 4: one image per iteration, 7 + 6 epochs (2,600).
BATCH1 = ["train.batch_size=1", "train.epochs=7", "train.epochs_decay=6"]
# name -> overrides of the demo experiment; "demo" keeps its settings (the measured defaults).
VARIANTS: dict[str, list[str]] = {
    "demo": [],
    "paper": PAPER,
    "ema": [*PAPER, "train.ema_decay=0.999"],
    "global_skip": [*PAPER, "model.global_skip=true"],
    "global_skip+ema": [*PAPER, "model.global_skip=true", "train.ema_decay=0.999"],
    "skip_filter": [*PAPER, *SKIP_FILTER],
    "skip_filter+cycle3": [*PAPER, *SKIP_FILTER, "loss.lambda_cycle=3.0"],
    "skip_filter+cycle3+ema": [*PAPER, *SKIP_FILTER, "loss.lambda_cycle=3.0",
                               "train.ema_decay=0.999"],
    "skip_filter+cycle_blur": [*PAPER, *SKIP_FILTER, "loss.cycle_blur=1.0",
                               "loss.lambda_identity=0.1"],
    "antialias": [*PAPER, "model.antialias=true"],
    "antialias+ema": [*PAPER, "model.antialias=true", "train.ema_decay=0.999"],
    "resize": [*PAPER, "model.upsample=resize"],
    "spectral_norm": [*PAPER, "model.spectral_norm=true"],
    "r1": [*PAPER, "loss.lambda_r1=1.0"],
    "skip_filter_defaults": SKIP_FILTER_DEFAULTS,
    "skip_filter_defaults+resize": [*SKIP_FILTER_DEFAULTS, "model.upsample=resize"],
    "skip_filter_defaults+long_skip": [*SKIP_FILTER_DEFAULTS, "model.long_skip=true"],
    "demo+spectral_norm": ["model.spectral_norm=true"],
    "demo+r1": ["loss.lambda_r1=1.0"],
    "batch1": BATCH1,
    "batch1-long_skip": [*BATCH1, "model.long_skip=false"],
    "batch1+identity": [*BATCH1, "loss.lambda_identity=0.1", "train.epochs=6"],
    "batch1+resize": [*BATCH1, "model.upsample=resize"],
}  # fmt: skip
PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "monet2photo-mini" / "testB"


def mean_of(metric, outputs: list[np.ndarray], targets: list[np.ndarray]) -> float:
    return float(np.mean([metric(o, t) for o, t in zip(outputs, targets, strict=True)]))


def content_ssim(gens: Generators, photos: list[np.ndarray]) -> float:
    fakes = translate_images(gens.G_AB, photos, gens.multiple)
    return mean_of(ssim, [luminance(p) for p in photos], [luminance(f) for f in fakes])


def run_settings(cfg: Config) -> str:
    """A run's resolved config without its folders: a run in an `--out` file is reused only if
    this is unchanged (same variant keys, and the same demo defaults underneath them)."""
    raw = to_dict(cfg)
    raw["data"].pop("root", None)
    raw["log"].pop("runs_dir", None)
    return hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()[:16]


def earlier_rows(out: Path | None, steps: int, photos: int) -> dict[str, dict]:
    """The variants of an earlier, possibly killed, `--out` file of these options."""
    if out is None or not out.exists():
        return {}
    try:
        old = json.loads(out.read_text())
        variants = old["variants"]
        if not all(isinstance(r["seed"], int) for row in variants.values() for r in row["runs"]):
            raise TypeError("a run without a seed")
        same = old["experiment"] == "demo" and old["steps"] == steps and old["photos"] == photos
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise SystemExit(
            f"gan-style quality: {out} is not a quality result; choose another --out"
        ) from None
    if not same:
        raise SystemExit(
            f"gan-style quality: {out} holds runs of --steps {old['steps']} with "
            f"{old['photos']} photos; use those options to add to it, or another --out"
        )
    return variants


def summary(name: str, runs: list[dict], photos: bool) -> dict:
    return {
        "overrides": VARIANTS[name],
        "runs": runs,
        "ssim_AB": interval([r["ssim_AB"] for r in runs]),
        "psnr_AB": interval([r["psnr_AB"] for r in runs]),
        "content_ssim_photos": interval([r["content_ssim_photos"] for r in runs])
        if photos else None,
        "seconds_mean": statistics.mean(r["seconds"] for r in runs),
    }  # fmt: skip


def run_variants(
    variants: list[str],
    steps: int,
    seeds: int,
    photos_dir: Path | None,
    n_photos: int = 16,
    out: Path | None = None,
) -> dict:
    """`out`: the result so far is written there after every run (atomically), and the runs it
    already holds with the same settings are not trained again, so a killed benchmark resumes."""
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise SystemExit(f"gan-style quality: unknown variant(s) {', '.join(unknown)}; "
                         f"choose from {', '.join(VARIANTS)}")  # fmt: skip
    photos = []
    if photos_dir and photos_dir.is_dir():
        photos = [load_image(p) for p in find_images(photos_dir)[:n_photos]]
    earlier = earlier_rows(out, steps, len(photos))
    with tempfile.TemporaryDirectory() as tmp:
        root = (
            Path("data/demo")
            if Path("data/demo/testB_paired").is_dir()
            else build_demo_dataset(Path(tmp) / "demo")
        )
        base = [f"data.root={root}", f"log.runs_dir={tmp}/runs", f"train.max_steps={steps}",
                "eval.every=0", "log.sample_every=100000"]  # fmt: skip
        held_out = HeldOutSet.from_config(load_config("demo", base), 24)
        identity = mean_of(ssim, held_out.images["A"], held_out.truth["A"])
        result = {
            "experiment": "demo",
            "steps": steps,
            "seeds": seeds,
            "identity_ssim_AB": identity,
            "photos": len(photos),
            "variants": dict(earlier),  # the file keeps the variants not asked for this time
        }

        def config(name: str, seed: int) -> Config:
            return load_config("demo", [*base, f"train.seed={seed}", *VARIANTS[name]])

        for name in variants:
            reusable = {  # runs of the file trained with exactly these settings
                r["seed"]: r
                for r in earlier.get(name, {}).get("runs", [])
                if r.get("settings") == run_settings(config(name, r["seed"]))
            }
            extra = [r for seed, r in sorted(reusable.items()) if seed >= seeds]
            runs = []
            for seed in range(seeds):
                if seed in reusable:
                    runs.append(reusable[seed])
                    continue
                cfg = config(name, seed)
                start = time.perf_counter()
                run_dir = train(cfg, run=f"{name}_seed{seed}")
                seconds = time.perf_counter() - start
                gens = load_generators(run_dir)
                fakes = translate_images(gens.G_AB, held_out.images["A"], gens.multiple)
                truths = held_out.truth["A"]
                runs.append({
                    "seed": seed,
                    "steps": gens.step,
                    "ssim_AB": mean_of(ssim, fakes, truths),
                    "psnr_AB": mean_of(psnr, fakes, truths),
                    "content_ssim_photos": content_ssim(gens, photos) if photos else None,
                    "seconds": seconds,
                    "settings": run_settings(cfg),
                })  # fmt: skip
                if out is not None:  # the runs so far, and the file's runs not yet reached
                    later = [r for s, r in sorted(reusable.items()) if s > seed]
                    result["variants"][name] = summary(name, runs + later, bool(photos))
                    write_json(result, out)
            result["variants"][name] = summary(name, runs + extra, bool(photos))
    if out is not None:
        write_json(result, out)
    return result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gan-style quality", description=__doc__)
    parser.add_argument(
        "--steps", type=int, default=0, help="iterations per run (0: each variant's schedule)"
    )
    parser.add_argument("--seeds", type=int, default=3, help="seeds per variant (3)")
    parser.add_argument(
        "--variants", default=",".join(VARIANTS), help=f"comma list of {', '.join(VARIANTS)}"
    )
    parser.add_argument("--out", type=Path, default=None, metavar="FILE",
                        help="also write the JSON here after every run; runs already in FILE "
                        "with the same settings are not trained again (resume)")  # fmt: skip
    parser.add_argument("--photos", type=Path, default=PHOTOS,
                        help="photos for the content SSIM (default ../shared/data/"
                        "monet2photo-mini/testB when present)")  # fmt: skip
    real = parser.add_argument_group(
        "a real style (gan_style/style_quality.py): settings at equal wall-clock, scored by "
        "the deception rate of a domain classifier and the content SSIM"
    )
    real.add_argument("--real", type=Path, metavar="DIR",
                      help="a CycleGAN dataset with paintings in A, photos in B (e.g. ../shared/"
                      "data/monet2photo-mini); --variants then names settings")  # fmt: skip
    real.add_argument("--minutes", type=float, default=3.0, help="training minutes per run (3)")
    real.add_argument("--pictures", type=Path, metavar="FILE",
                      help="write a grid of held-out photos through each setting here")  # fmt: skip
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.steps < 0 or args.seeds < 1:
        raise SystemExit(
            "gan-style quality: --steps must be 0 (each variant's schedule) or more, "
            "--seeds 1 or more"
        )
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if args.real is not None:
        from gan_style.style_quality import SETTINGS, run_settings

        if not (args.real / "trainA").is_dir() or args.minutes <= 0:
            raise SystemExit(f"gan-style quality: --real needs a dataset folder with trainA/ "
                             f"and trainB/ (got {args.real}) and --minutes above 0")  # fmt: skip
        names = list(SETTINGS) if args.variants == ",".join(VARIANTS) else variants
        result = run_settings(args.real, names, args.seeds, args.minutes, args.out, args.pictures)
        print(json.dumps(result, indent=2))
        return
    result = run_variants(variants, args.steps, args.seeds, args.photos, out=args.out)
    print(json.dumps(result, indent=2))
