"""Scoring the model on held-out images during training, and keeping the best checkpoint."""

from __future__ import annotations

from gan_style.config import Config
from gan_style.errors import ConfigError
from gan_style.evaluation.runner import HeldOutSet
from gan_style.inference import Generators
from gan_style.inference.generators import test_behaviour
from gan_style.models import TranslationModel
from gan_style.training.logger import RunLogger
from gan_style.training.run_folder import Progress, RunFolder


def held_out_set(cfg: Config) -> HeldOutSet:
    """The fixed held-out images scored during training; checks eval.metric is computable."""
    held_out = HeldOutSet.from_config(cfg, cfg.eval.num_images)
    if cfg.eval.metric not in held_out.metrics:
        raise ConfigError(
            f"eval.metric={cfg.eval.metric} cannot be computed for this model and data "
            f"(*_AB needs paired data or testB_paired/, *_BA testA_paired/, cycle_* CycleGAN); "
            f"use one of {', '.join(held_out.metrics)}"
        )
    return held_out


class TrainingEvaluator:
    """Every `eval.every` steps: score the held-out subset, log it, keep best.pt by
    `eval.metric` and write metrics.json."""

    def __init__(self, cfg: Config, model: TranslationModel, folder: RunFolder) -> None:
        self.cfg, self.model, self.folder = cfg, model, folder
        self.held_out = held_out_set(cfg)

    def __call__(self, progress: Progress, logger: RunLogger) -> dict[str, float]:
        gens = Generators.from_model(self.model, self.cfg, progress.step, self.folder.path)
        # Scored as `gan-style evaluate` scores the saved generators.
        with test_behaviour(self.model, [n for n in (gens.G_AB, gens.G_BA) if n is not None]):
            scores = self.held_out.score(gens)
        logger.scalars(progress.step, {f"Eval/{k}": v for k, v in scores.items()})
        value = scores[self.cfg.eval.metric]
        if value > progress.best_value:
            progress.best_value, progress.best_step = value, progress.step
            self.folder.save_best()
        best = {"metric": self.cfg.eval.metric, "value": progress.best_value,
                "step": progress.best_step}  # fmt: skip
        self.folder.write_metrics(progress.step, scores, best)
        return scores
