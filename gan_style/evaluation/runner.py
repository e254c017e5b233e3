"""Scoring a checkpoint on a held-out split: translate, save, then run the protocols."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gan_style.errors import DataError, EvaluationError
from gan_style.evaluation import distribution
from gan_style.evaluation.protocols import PROTOCOLS, ImageScore, score_arrays, score_folders
from gan_style.evaluation.report import summarize_scores, write_json, write_scores_csv
from gan_style.image_io import find_images, load_image, save_image
from gan_style.inference import Generators, translate_images

# (real side, forward generator, backward generator, translated name, reconstruction name)
SIDES = (("A", "G_AB", "G_BA", "fake_B", "rec_A"), ("B", "G_BA", "G_AB", "fake_A", "rec_B"))
# Metric keys logged during training, `Eval/<key>`; all are better when higher.
TRAINING_METRICS = (
    "ssim_AB", "psnr_AB", "ssim_BA", "psnr_BA",
    "cycle_ssim_A", "cycle_psnr_A", "cycle_ssim_B", "cycle_psnr_B",
)  # fmt: skip


def split_images(root: Path, folder: str) -> list[Path]:
    path = root / folder
    paths = find_images(path) if path.is_dir() else []
    if not paths:
        raise DataError(f"no held-out images in {path}; evaluation needs {folder}/ under data.root")
    return paths


def translate_split(
    gens: Generators, root: Path, split: str, out: Path, batch_size: int = 8
) -> dict[str, Path]:
    """Write out/{fake_B,rec_A,fake_A,rec_B}/<name>.png; returns every folder to score."""
    folders = {}
    channels = gens.config.data.channels
    for side, forward, backward, fake_name, rec_name in SIDES:
        src = root / f"{split}{side}"
        paths = split_images(root, f"{split}{side}")
        reals = [load_image(p, channels) for p in paths]
        # The reconstruction starts from the 8-bit translation, exactly as saved.
        fakes = translate_images(getattr(gens, forward), reals, gens.multiple, batch_size)
        recs = translate_images(getattr(gens, backward), fakes, gens.multiple, batch_size)
        for path, fake, rec in zip(paths, fakes, recs, strict=True):
            rel = path.relative_to(src).with_suffix(".png")
            save_image(fake, out / fake_name / rel)
            save_image(rec, out / rec_name / rel)
        folders |= {f"real_{side}": src, fake_name: out / fake_name, rec_name: out / rec_name}
    return folders


def distribution_metrics(
    folders: dict[str, Path], weights: str | Path | None, device: str
) -> dict[str, dict]:
    """FID and KID of each translation against the real images of its target domain."""
    model = distribution.load_inception(weights).to(device)
    out: dict[str, dict] = {"fid": {}, "kid": {}}
    for direction, fake, real in (("AtoB", "fake_B", "real_B"), ("BtoA", "fake_A", "real_A")):
        feats = [
            distribution.features(model, [load_image(p) for p in find_images(folders[name])])
            for name in (fake, real)
        ]
        out["fid"][direction] = distribution.frechet_distance(*feats)
        mean, std = distribution.kernel_inception_distance(*feats)
        out["kid"][direction] = {"mean": mean, "std": std}
    return out


def evaluate(
    gens: Generators,
    out: Path,
    split: str = "test",
    protocol: str = "all",
    fid: bool = True,
    inception_weights: str | Path | None = None,
    device: str = "cpu",
    batch_size: int = 8,
) -> dict:
    """Translate `split`, score it, write per_image.csv and summary.json under `out`."""
    if protocol not in (*PROTOCOLS, "all"):
        raise EvaluationError(
            f"unknown protocol '{protocol}'; choose {', '.join(PROTOCOLS)} or all"
        )
    root = Path(gens.config.data.root)
    folders = translate_split(gens, root, split, out / "images", batch_size)
    protocols = PROTOCOLS if protocol == "all" else (protocol,)
    notes: list[str] = []
    scores: list[ImageScore] = []
    if "paired" in protocols:
        candidates = (("AtoB", "fake_B", "B"), ("BtoA", "fake_A", "A"))
        truths = [(d, fake, root / f"{split}{side}_paired") for d, fake, side in candidates]
        found = [(d, fake, truth) for d, fake, truth in truths if truth.is_dir()]
        if not found:
            message = (
                f"paired protocol needs ground truth in {root}/{split}B_paired/ (or "
                f"{split}A_paired/), named like the {split}A/ images"
            )
            if protocol == "paired":
                raise EvaluationError(message)
            notes.append(f"skipped: {message}")
        for direction, fake, truth in found:
            scores += score_folders("paired", direction, folders[fake], truth)
    if "cycle" in protocols:
        scores += score_folders("cycle", "ABA", folders["real_A"], folders["rec_A"])
        scores += score_folders("cycle", "BAB", folders["real_B"], folders["rec_B"])
    if "content" in protocols:
        scores += score_folders("content", "AtoB", folders["real_A"], folders["fake_B"])
        scores += score_folders("content", "BtoA", folders["real_B"], folders["fake_A"])

    metrics: dict = summarize_scores(scores)
    if fid and protocol == "all":
        try:
            metrics |= distribution_metrics(folders, inception_weights, device)
        except EvaluationError as e:
            notes.append(f"FID/KID skipped: {e}")
    summary = {
        "experiment": gens.config.name,
        "checkpoint": str(gens.source),
        "step": gens.step,
        "split": split,
        "protocol": protocol,
        "metrics": metrics,
        "notes": notes,
    }
    write_scores_csv(scores, out / "per_image.csv")
    write_json(summary, out / "summary.json")
    return summary


class HeldOutSet:
    """A fixed subset of held-out images, loaded once, scored during training in memory."""

    def __init__(self, root: Path, n: int, channels: int = 3, split: str = "test") -> None:
        self.images: dict[str, list[np.ndarray]] = {}
        self.truth: dict[str, list[np.ndarray]] = {}
        self.names: dict[str, list[str]] = {}
        for side in ("A", "B"):
            paths = split_images(root, f"{split}{side}")[:n]
            self.names[side] = [p.stem for p in paths]
            self.images[side] = [load_image(p, channels) for p in paths]
            other = "B" if side == "A" else "A"
            truth_dir = root / f"{split}{other}_paired"
            if truth_dir.is_dir():
                truth = {
                    p.relative_to(truth_dir).with_suffix("").as_posix(): p
                    for p in find_images(truth_dir)
                }
                rels = [
                    p.relative_to(root / f"{split}{side}").with_suffix("").as_posix() for p in paths
                ]
                missing = [r for r in rels if r not in truth]
                if missing:
                    raise EvaluationError(
                        f"{truth_dir} lacks ground truth for {', '.join(missing[:5])}"
                    )
                self.truth[side] = [load_image(truth[r], channels) for r in rels]

    @property
    def metrics(self) -> tuple[str, ...]:
        """The training metric keys this set can compute (paired ones need ground truth)."""
        paired = {"A": ("ssim_AB", "psnr_AB"), "B": ("ssim_BA", "psnr_BA")}
        keys = [k for side in self.truth for k in paired[side]]
        return (*keys, "cycle_ssim_A", "cycle_psnr_A", "cycle_ssim_B", "cycle_psnr_B")

    def score(self, gens: Generators) -> dict[str, float]:
        """Mean of each metric in `metrics`, on 8-bit outputs as they would be saved."""
        out: dict[str, float] = {}
        for side, forward, backward, _, _ in SIDES:
            suffix = "AB" if side == "A" else "BA"
            reals = self.images[side]
            fakes = translate_images(getattr(gens, forward), reals, gens.multiple)
            recs = translate_images(getattr(gens, backward), fakes, gens.multiple)
            cycle = [
                score_arrays("cycle", side, n, r, c)
                for n, r, c in zip(self.names[side], reals, recs, strict=True)
            ]
            out[f"cycle_ssim_{side}"] = float(np.mean([s.ssim for s in cycle]))
            out[f"cycle_psnr_{side}"] = float(np.mean([s.psnr for s in cycle]))
            if side in self.truth:
                triples = zip(self.names[side], fakes, self.truth[side], strict=True)
                paired = [score_arrays("paired", suffix, n, f, t) for n, f, t in triples]
                out[f"ssim_{suffix}"] = float(np.mean([s.ssim for s in paired]))
                out[f"psnr_{suffix}"] = float(np.mean([s.psnr for s in paired]))
        return out
