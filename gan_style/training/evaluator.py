"""Scoring the model on held-out images during training, and keeping the best checkpoint."""

from __future__ import annotations

import sys

from gan_style.config import Config
from gan_style.errors import ConfigError, EvaluationError
from gan_style.evaluation.inception import FidExtractor, load_fid_extractor
from gan_style.evaluation.runner import LOWER_IS_BETTER, HeldOutSet, style_judge
from gan_style.inference import Generators
from gan_style.inference.generators import test_behaviour
from gan_style.models import TranslationModel
from gan_style.training.logger import RunLogger
from gan_style.training.run_folder import Progress, RunFolder


def held_out_set(cfg: Config) -> HeldOutSet:
    """The fixed held-out images scored during training; checks eval.metric is computable."""
    judge = None
    if cfg.eval.style_score and cfg.data.dataset_mode == "unaligned":
        try:  # trained once per dataset (under a minute) and cached
            judge = style_judge(cfg)
        except EvaluationError as e:
            print(f"note: no deception_* scores during training: {e}", file=sys.stderr)
    held_out = HeldOutSet.from_config(cfg, cfg.eval.num_images, judge=judge)
    if cfg.eval.metric not in held_out.metrics:
        raise ConfigError(
            f"eval.metric={cfg.eval.metric} cannot be computed for this model and data "
            f"(*_AB needs paired data or testB_paired/, *_BA testA_paired/, cycle_* CycleGAN); "
            f"use one of {', '.join(held_out.metrics)}"
        )
    if cfg.eval.metric.startswith(LOWER_IS_BETTER) and cfg.eval.num_images < 2:
        raise ConfigError(f"eval.metric={cfg.eval.metric} needs eval.num_images >= 2")
    return held_out


def improves(metric: str, value: float, progress: Progress) -> bool:
    if progress.best_step < 0:
        return True
    lower = metric.startswith(LOWER_IS_BETTER)
    return value < progress.best_value if lower else value > progress.best_value


class TrainingEvaluator:
    """Every `eval.every` steps: score the held-out subset, log it, keep best.pt by
    `eval.metric` and write metrics.json. FID/KID metrics load their network at the start, so
    missing weights stop the run before it trains, not at its first evaluation."""

    def __init__(
        self, cfg: Config, model: TranslationModel, folder: RunFolder, device: str = "cpu"
    ) -> None:
        self.cfg, self.model, self.folder = cfg, model, folder
        self.held_out = held_out_set(cfg)
        self.extractor: FidExtractor | None = None
        if cfg.eval.metric.startswith(LOWER_IS_BETTER):
            self.extractor = load_fid_extractor(cfg.eval.inception_weights or None, device)

    def __call__(self, progress: Progress, logger: RunLogger) -> dict[str, float]:
        gens = Generators.from_model(self.model, self.cfg, progress.step, self.folder.path)
        # Scored as `gan-style evaluate` scores the saved generators.
        with test_behaviour(self.model, [n for n in (gens.G_AB, gens.G_BA) if n is not None]):
            scores = self.held_out.score(gens, self.extractor)
        logger.scalars(progress.step, {f"Eval/{k}": v for k, v in scores.items()})
        value = scores[self.cfg.eval.metric]
        if improves(self.cfg.eval.metric, value, progress):
            progress.best_value, progress.best_step = value, progress.step
            progress.best_metrics = dict(scores)
            self.folder.save_best()
        self.folder.write_metrics(self.cfg.eval.metric, progress, scores)
        return scores
