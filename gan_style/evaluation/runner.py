"""Scoring a checkpoint on a held-out split: translate, save, then run the protocols."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gan_style.config import Config
from gan_style.data.held_out import held_out_images
from gan_style.errors import EvaluationError
from gan_style.evaluation import distribution
from gan_style.evaluation.baselines import baselines
from gan_style.evaluation.inception import FidExtractor, load_fid_extractor
from gan_style.evaluation.metrics import luminance, ssim
from gan_style.evaluation.perceptual import Lpips, load_lpips
from gan_style.evaluation.protocols import (
    PROTOCOLS,
    ImageScore,
    at_size_of,
    score_arrays,
    score_folders,
)
from gan_style.evaluation.report import summarize_scores, write_json, write_scores_csv
from gan_style.evaluation.statistics import summarize
from gan_style.evaluation.style_score import RECIPE, StyleJudge, load_judge
from gan_style.image_io import find_images, load_image, save_image
from gan_style.inference.engines import translate_arrays
from gan_style.inference.generators import Generators
from gan_style.models import model_class

# Training-time metrics where lower is better; the others (SSIM, PSNR) are better higher.
LOWER_IS_BETTER = ("fid_", "kid_")

BASELINE = "baseline_"  # the folder of a baseline's outputs: baseline_blank_page

# (real side, forward generator, backward generator, translated name, reconstruction name)
SIDES = (("A", "G_AB", "G_BA", "fake_B", "rec_A"), ("B", "G_BA", "G_AB", "fake_A", "rec_B"))


def translate_split(
    gens: Generators, split: str, out: Path, batch_size: int | None = None, style: str | None = None
) -> dict[str, Path]:
    """Write every folder the protocols compare under `out`; returns them by name:
    real_A, real_B (inputs), truth_B, truth_A (ground truth), fake_B, rec_A, fake_A, rec_B."""
    held = held_out_images(gens.config, split, style)
    inputs, truths, names = held.inputs, held.truths, held.names
    code = gens.style_code(style) if style else None
    folders: dict[str, Path] = {}

    def write(kind: str, side_names: list[str], images: list[np.ndarray]) -> None:
        for name, image in zip(side_names, images, strict=True):
            save_image(image, out / kind / f"{name}.png")
        folders[kind] = out / kind

    for side, forward, backward, fake_name, rec_name in SIDES:
        other = "B" if side == "A" else "A"
        if side not in inputs:
            continue
        write(f"real_{side}", names[side], inputs[side])
        if side in truths:
            write(f"truth_{other}", names[side], truths[side])
        generator = getattr(gens, forward)
        if generator is None:
            continue
        fakes = translate_arrays(
            generator, inputs[side], gens.multiple, batch_size, code, gens.engine
        )
        write(fake_name, names[side], fakes)
        back = getattr(gens, backward)
        if back is not None and gens.cycle:
            # The reconstruction starts from the 8-bit translation, exactly as saved.
            recs = translate_arrays(back, fakes, gens.multiple, batch_size, code, gens.engine)
            write(rec_name, names[side], recs)
    if "real_B" not in folders and "truth_B" in folders:  # paired data: targets are B's reals
        folders["real_B"] = folders["truth_B"]
    if "A" in inputs:
        for name, outputs in baselines(gens.config, inputs["A"]).items():
            write(BASELINE + name.replace(" ", "_"), names["A"], outputs)
    return folders


@dataclass
class Scoring:
    """What `evaluate` computes besides SSIM/PSNR/MAE, and the weights files it reads."""

    fid: bool = True  # FID and KID against the target domain's real images
    inception_weights: str | Path | None = None  # None: torch.hub's cache, else a download
    fid_reference: str | Path | None = None  # AtoB's reference: a folder or a statistics file
    lpips: bool = True
    lpips_weights: str | Path | None = None
    verify_weights: bool = True  # refuse weights files that are not the official ones
    style: bool = True  # the deception rate of a domain classifier (`style_score`)


def score_protocols(
    gens: Generators,
    folders: dict[str, Path],
    protocol: str,
    split: str,
    notes: list[str],
    style: str | None = None,
    lpips: Lpips | None = None,
) -> list[ImageScore]:
    """Run the protocols that the available folders allow; note or refuse the others."""
    protocols = PROTOCOLS if protocol == "all" else (protocol,)
    suffix = f":{style}" if style else ""
    scores: list[ImageScore] = []
    checks = {
        "paired": (("AtoB", "fake_B", "truth_B"), ("BtoA", "fake_A", "truth_A")),
        "cycle": (("ABA", "real_A", "rec_A"), ("BAB", "real_B", "rec_B")),
        "content": (("AtoB", "real_A", "fake_B"), ("BtoA", "real_B", "fake_A")),
    }
    for name in protocols:
        runs = [(d, a, b) for d, a, b in checks[name] if a in folders and b in folders]
        if not runs:
            root, data = gens.config.data.root, gens.config.data.dataset_mode
            needs = {
                "paired": f"ground truth: paired data, or {split}B_paired/ (named like "
                f"{split}A/) under {root} (data {data})",
                "cycle": "a CycleGAN checkpoint with both generators",
                "content": "a translation",
            }[name]
            message = f"{name} protocol needs {needs}"
            if protocol == name:
                raise EvaluationError(message)
            if f"skipped: {message}" not in notes:
                notes.append(f"skipped: {message}")
        for direction, a, b in runs:
            scores += score_folders(name, f"{direction}{suffix}", folders[a], folders[b], lpips)
    if protocol in ("all", "paired") and "truth_B" in folders:
        for kind in (k for k in folders if k.startswith(BASELINE)):  # scored as the model is
            label = f"AtoB (baseline: {kind.removeprefix(BASELINE).replace('_', ' ')})"
            scores += score_folders("paired", label, folders[kind], folders["truth_B"], lpips)
    return scores


def style_judge(cfg: Config) -> StyleJudge:
    """The domain classifier of the run's dataset (`style_score`): unpaired data only, where
    the two training folders are the two domains."""
    styled = model_class(cfg.model.name).styled
    if cfg.data.dataset_mode != "unaligned" or styled:
        raise EvaluationError(
            f"it needs unpaired data with one style in trainB/ (this is {cfg.data.dataset_mode}"
            f"{' with several styles' if styled else ''})"
        )
    return load_judge(cfg.data.root)


# (label, folder, the domain its images are judged as): the translations, then two references
# that say what the numbers mean: real target images (near 1) and the untouched inputs (near 0).
JUDGED = (
    ("AtoB", "fake_B", "B"), ("BtoA", "fake_A", "A"),
    ("real B (reference)", "real_B", "B"), ("untouched A (reference)", "real_A", "B"),
)  # fmt: skip


def style_rates(judge: StyleJudge, folders: dict[str, Path]) -> dict[str, dict]:
    """{label: {"deception": stats}}: the share of each folder's images the classifier takes
    for the domain (`JUDGED`), with its interval."""
    out: dict[str, dict] = {}
    for label, kind, domain in JUDGED:
        if kind not in folders:
            continue
        images = [load_image(p) for p in find_images(folders[kind])]
        out[label] = {"deception": summarize(list(judge.taken_for(images, domain)))}
    return out


def distribution_metrics(
    folders: dict[str, Path], extractor: FidExtractor, reference: str | Path | None = None
) -> dict[str, dict]:
    """FID and KID of each translation against its target domain's real images (for AtoB,
    `reference` instead when given); the reference side's features are cached."""
    out: dict[str, dict] = {"fid": {}, "kid": {}}
    directions = (("AtoB", "fake_B", "real_B"), ("BtoA", "fake_A", "real_A"))
    for direction, fake, real in directions:
        if fake not in folders or (real not in folders and not reference):
            continue
        if direction == "AtoB" and reference:
            ref = distribution.load_reference(Path(reference), extractor)
        else:
            ref = distribution.folder_reference(folders[real], extractor)
        translated = extractor.features([load_image(p) for p in find_images(folders[fake])])
        for name, value in distribution.score(translated, ref).items():
            out[name][direction] = value
    return out


def _optional(load, notes: list[str], what: str):
    try:
        return load()
    except EvaluationError as e:
        notes.append(f"{what} skipped: {e}")
        return None


def evaluate(
    gens: Generators,
    out: Path,
    split: str = "test",
    protocol: str = "all",
    scoring: Scoring | None = None,
    device: str = "cpu",
    batch_size: int | None = None,
    style: str | None = None,
) -> dict:
    """Translate `split`, score it, write per_image.csv and summary.json under `out`.

    A multistyle model is scored per style (directions like `AtoB:monet`), or for `style` only.
    Missing LPIPS or FID weights cost those scores only, each with a note.
    """
    scoring = scoring or Scoring()
    if protocol not in (*PROTOCOLS, "all"):
        raise EvaluationError(
            f"unknown protocol '{protocol}'; choose {', '.join(PROTOCOLS)} or all"
        )
    if style is not None and style not in gens.styles:
        known = ", ".join(gens.styles) or "none: not a multistyle model"
        raise EvaluationError(f"evaluate scores one style by name, not '{style}'; styles: {known}")
    styles = [style] if style else (gens.styles or [None])
    notes: list[str] = []
    settings: dict = {}
    lpips = None
    if scoring.lpips:
        lpips = _optional(
            lambda: load_lpips(scoring.lpips_weights, device, scoring.verify_weights),
            notes,
            "LPIPS",
        )
        if lpips is not None:
            settings["lpips"] = lpips.describe()
    scores: list[ImageScore] = []
    all_folders: dict[str, dict[str, Path]] = {}
    for current in styles:
        images = out / "images" / current if current else out / "images"
        folders = translate_split(gens, split, images, batch_size, current)
        all_folders[current or ""] = folders
        scores += score_protocols(gens, folders, protocol, split, notes, current, lpips)
    metrics: dict = summarize_scores(scores)
    if scoring.style and protocol in ("all", "content"):
        judge = _optional(lambda: style_judge(gens.config), notes, "style score")
        if judge is not None:
            settings["style"] = {"classifier_accuracy": judge.accuracy, "recipe": RECIPE}
            metrics["style"] = style_rates(judge, all_folders[""])
    if scoring.fid:
        extractor = _optional(
            lambda: load_fid_extractor(scoring.inception_weights, device, scoring.verify_weights),
            notes,
            "FID/KID",
        )
        if extractor is not None:
            settings["fid_kid"] = extractor.describe()
            for current, folders in all_folders.items():
                suffix = f":{current}" if current else ""
                values = _optional(
                    lambda f=folders: distribution_metrics(f, extractor, scoring.fid_reference),
                    notes,
                    f"FID/KID{suffix}",
                )
                for name, by_direction in (values or {}).items():
                    metrics.setdefault(name, {}).update(
                        {f"{k}{suffix}": v for k, v in by_direction.items()}
                    )
    summary = {
        "experiment": gens.config.name,
        "checkpoint": str(gens.source),
        "step": gens.step,
        "split": split,
        "protocol": protocol,
        "metrics": metrics,
        "computed_with": settings,
        "notes": notes,
    }
    write_scores_csv(scores, out / "per_image.csv")
    write_json(summary, out / "summary.json")
    return summary


class HeldOutSet:
    """A fixed subset of held-out images, loaded once, scored during training in memory."""

    def __init__(
        self,
        inputs: dict,
        truths: dict,
        names: dict,
        cycle: bool = True,
        style: str | None = None,
        judge: StyleJudge | None = None,
    ) -> None:
        self.images, self.truth, self.names, self.cycle = inputs, truths, names, cycle
        self.style = style  # multistyle: the style scored (the first one)
        self.judge = judge  # the dataset's domain classifier: deception_* metrics
        self._references: dict[str, distribution.Reference] = {}

    @classmethod
    def from_config(
        cls, cfg: Config, n: int, split: str = "test", judge: StyleJudge | None = None
    ) -> HeldOutSet:
        spec = model_class(cfg.model.name)
        style = cfg.data.styles[0] if spec.styled else None
        held = held_out_images(cfg, split, style, limit=n)
        return cls(held.inputs, held.truths, held.names, spec.cycle, style, judge)

    def target_reals(self, side: str) -> list[np.ndarray]:
        """Real images of the domain that `side`'s translations land in (FID/KID's reference)."""
        other = "B" if side == "A" else "A"
        return self.images.get(other) or self.truth.get(side) or []

    @property
    def metrics(self) -> tuple[str, ...]:
        """The training metric keys this set can compute (paired ones need ground truth;
        fid_*/kid_* a reference set and the FID Inception weights)."""
        paired = {"A": ("ssim_AB", "psnr_AB"), "B": ("ssim_BA", "psnr_BA")}
        keys = [k for side in self.truth for k in paired[side]]
        if self.cycle:
            keys += ["cycle_ssim_A", "cycle_psnr_A", "cycle_ssim_B", "cycle_psnr_B"]
        for side, suffix in (("A", "AB"), ("B", "BA")):
            translated = side in self.images and (side == "A" or self.cycle)
            if translated and self.target_reals(side):
                keys += [f"fid_{suffix}", f"kid_{suffix}"]
            if translated:
                keys += [f"content_ssim_{suffix}"] + ([f"deception_{suffix}"] if self.judge else [])
        return tuple(keys)

    def score(self, gens: Generators, extractor: FidExtractor | None = None) -> dict[str, float]:
        """Mean of each metric in `metrics`, on 8-bit outputs as they would be saved; FID and
        KID (KID's mean) only with an `extractor`."""
        out: dict[str, float] = {}
        code = gens.style_code(self.style) if self.style else None
        computable = self.metrics
        for side, forward, backward, _, _ in SIDES:
            generator, back = getattr(gens, forward), getattr(gens, backward)
            if side not in self.images or generator is None:
                continue
            suffix = "AB" if side == "A" else "BA"
            reals = self.images[side]
            fakes = translate_arrays(
                generator, reals, gens.multiple, style=code, engine=gens.engine
            )
            if side in self.truth:
                triples = zip(self.names[side], fakes, self.truth[side], strict=True)
                paired = [score_arrays("paired", suffix, n, f, t) for n, f, t in triples]
                out[f"ssim_{suffix}"] = float(np.mean([s.ssim for s in paired]))
                out[f"psnr_{suffix}"] = float(np.mean([s.psnr for s in paired]))
            pairs = zip(reals, fakes, strict=True)
            out[f"content_ssim_{suffix}"] = float(
                np.mean([ssim(luminance(r), luminance(at_size_of(r, f))) for r, f in pairs])
            )
            if self.judge is not None:
                out[f"deception_{suffix}"] = self.judge.deception_rate(fakes, suffix[1])
            if self.cycle and back is not None:
                recs = translate_arrays(back, fakes, gens.multiple, style=code, engine=gens.engine)
                triples = zip(self.names[side], reals, recs, strict=True)
                cycle = [score_arrays("cycle", side, n, r, c) for n, r, c in triples]
                out[f"cycle_ssim_{side}"] = float(np.mean([s.ssim for s in cycle]))
                out[f"cycle_psnr_{side}"] = float(np.mean([s.psnr for s in cycle]))
            if extractor is not None and f"fid_{suffix}" in computable:
                if side not in self._references:  # the held-out reals never change
                    features = extractor.features(self.target_reals(side))
                    self._references[side] = distribution.Reference(features, {"held_out": side})
                values = distribution.score(extractor.features(fakes), self._references[side])
                out[f"fid_{suffix}"] = values["fid"]["value"]
                out[f"kid_{suffix}"] = values["kid"]["mean"]
        return out
