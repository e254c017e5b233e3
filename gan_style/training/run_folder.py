"""A run folder, runs/<experiment>/<run>/: its config, its checkpoints and its scores, and
resuming from it. Rank 0 alone writes; every rank resumes."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import torch

from gan_style.config import Config, dump, flatten, to_dict
from gan_style.disk import disk_full, free_space, write_atomic
from gan_style.errors import CheckpointError, ConfigError, DiskFullError
from gan_style.evaluation.report import write_json
from gan_style.models import TranslationModel
from gan_style.runtime import checkpoint as ckpt
from gan_style.training import distributed
from gan_style.training.ema import GeneratorEMA
from gan_style.training.stop import say

METRICS = "metrics.json"  # the last held-out scores and the best checkpoint's, labelled

# Changing these would build other networks than the checkpoint holds.
ARCHITECTURE_KEYS = ("model.", "data.channels", "data.styles")


@dataclass
class Progress:
    """Where training stands; saved at the top level of every checkpoint."""

    epoch: int = 0  # current epoch, 0-based
    epoch_step: int = 0  # batches of the current epoch already trained
    step: int = 0  # iterations trained in total
    best_value: float = -math.inf  # best value of eval.metric so far
    best_step: int = -1  # step of best.pt; -1 = none yet
    best_metrics: dict[str, float] = field(default_factory=dict)  # every score at best_step

    def state_dict(self) -> dict:
        best = {"value": self.best_value, "step": self.best_step, "metrics": self.best_metrics}
        return {"epoch": self.epoch, "epoch_step": self.epoch_step, "step": self.step, "best": best}

    def load_state_dict(self, state: dict) -> None:
        best = state.get("best", {"value": -math.inf, "step": -1})
        self.epoch, self.epoch_step, self.step = state["epoch"], state["epoch_step"], state["step"]
        self.best_value, self.best_step = best["value"], best["step"]
        self.best_metrics = dict(best.get("metrics", {}))


def check_resume_config(saved: dict, cfg: Config, run_dir: Path) -> list[str]:
    """Refuse architecture changes; list other changed keys for the user."""
    before, after = flatten(saved), flatten(to_dict(cfg))
    changed = [k for k in after if before.get(k) != after[k]]
    for key in changed:
        if key.startswith(ARCHITECTURE_KEYS):
            raise ConfigError(
                f"{run_dir} was trained with {key}={before.get(key)}, this command says "
                f"{after[key]}; start a new run with --run NAME"
            )
    return [f"{k}: {before.get(k)} -> {after[k]}" for k in changed if k != "log.runs_dir"]


def training_state(
    cfg: Config,
    progress: Progress,
    model: TranslationModel,
    optimizers: dict[str, torch.optim.Optimizer],
    schedulers: dict[str, torch.optim.lr_scheduler.LRScheduler],
    scaler: torch.amp.GradScaler,
    device: torch.device,
    ema: GeneratorEMA | None = None,
) -> ckpt.CheckpointIO:
    """Everything a checkpoint holds, declared once for saving and resuming."""
    averaged = {"ema": ema} if ema else {}
    return ckpt.CheckpointIO(
        progress,
        config=ckpt.Entry(lambda: to_dict(cfg), lambda _saved: None),  # checked before loading
        model=model,
        **{f"optimizer_{k}": v for k, v in optimizers.items()},
        **{f"scheduler_{k}": v for k, v in schedulers.items()},
        pools=ckpt.Entry(model.pools_state_dict, lambda s: model.load_pools_state_dict(s, device)),
        scaler=ckpt.Entry(scaler.state_dict, scaler.load_state_dict, optional=True),
        rng=ckpt.RNG,
        **averaged,
    )


class RunFolder:
    """Saving and resuming the training state `state` in `path`."""

    def __init__(
        self,
        path: Path,
        cfg: Config,
        state: ckpt.CheckpointIO,
        model: TranslationModel,
        group: distributed.Group,
        ema: GeneratorEMA | None = None,
    ) -> None:
        self.path, self.cfg, self.state, self.model, self.group = path, cfg, state, model, group
        self.ema = ema  # generator.pt holds its averaged networks when there is one
        self.latest = path / ckpt.LATEST
        self._saved = (-1, -1)  # (step, epoch) of the last checkpoint written, to write each once
        self._last_saved = -1  # step of the last checkpoint written whole, or resumed from

    def resume(self, device: torch.device) -> list[str] | None:
        """Load the newest readable checkpoint into the declared state, if there is one; returns
        the config changes since (None for a fresh run), after refusing those that change the
        networks. An unreadable latest.pt (cut short by a full disk or a copy) is kept aside
        under another name and the newest readable step file (or best.pt, if newer) resumes."""
        candidates = [
            p for p in (self.latest, *reversed(ckpt.step_files(self.path))) if p.is_file()
        ]
        if not candidates:
            return None
        damaged: list[tuple[Path, str]] = []
        for path in candidates:
            try:
                saved = ckpt.load(path, map_location=device)
            except CheckpointError as e:
                damaged.append((path, str(e)))
                continue
            break
        else:
            raise CheckpointError(
                f"no checkpoint in {self.path} is readable ({damaged[0][1]}); move the folder "
                f"away or start a new run with --run"
            )
        if not isinstance(saved, dict) or "config" not in saved:
            raise ConfigError(f"{path} is not a training checkpoint; move it away")
        path, saved = self._newer_best(path, saved, device)
        for bad, _ in damaged if self.group.main else []:
            aside = _aside(bad)
            bad.rename(aside)
            say(f"{bad.name} is not a readable checkpoint; kept as {aside.name}; resuming from "
                f"{path.name} (step {saved.get('step', 0)})")  # fmt: skip
        changes = check_resume_config(saved["config"], self.cfg, self.path)
        self.state.load_state_dict(saved, path)
        self._last_saved = int(saved.get("step", 0))
        return changes

    def _newer_best(self, path: Path, saved: dict, device: torch.device) -> tuple[Path, dict]:
        """best.pt instead of a step file, where it is complete and newer."""
        best = self.path / ckpt.BEST
        if path == self.latest or not best.is_file():
            return path, saved
        try:
            candidate = ckpt.load(best, map_location=device)
        except CheckpointError:
            return path, saved
        if isinstance(candidate, dict) and candidate.get("step", -1) > saved.get("step", 0):
            return best, candidate
        return path, saved

    def write_config(self) -> None:
        if self.group.main:
            self.path.mkdir(parents=True, exist_ok=True)
            text = dump(self.cfg)
            write_atomic(self.path / "config.yaml", lambda f: f.write(text.encode()))

    def save(self, progress: Progress) -> None:
        """latest.pt, a step file (the newest `keep_checkpoints` are kept) and generator.pt;
        once per state, however often asked. Every rank takes part (weight digests)."""
        step = progress.step
        if (step, progress.epoch) == self._saved:
            return
        self._saved = (step, progress.epoch)
        digests = distributed.weight_digests([self.model], self.group)
        if not self.group.main:
            return
        snapshot = self.state.state_dict() | {"rank_weight_digests": digests}
        ckpt.save_atomic(snapshot, self.latest)  # a full disk: see disk_full_stops_the_run
        self._last_saved = step
        ckpt.save_atomic(snapshot, self.path / ckpt.step_name(step))
        ckpt.prune(self.path, self.cfg.train.keep_checkpoints)
        config = to_dict(self.cfg)
        networks = self.ema.averaged if self.ema else self.model.named_generators
        ckpt.save_generators(self.path / ckpt.GENERATOR, config, step, networks)

    @contextmanager
    def disk_full_stops_the_run(self) -> Iterator[None]:
        """Around the whole run: a write that finds the disk full (a checkpoint, a sample,
        TensorBoard's events, metrics.json) stops the run in one line that says what is safe:
        every file is written whole or not at all, so the files written before are intact."""
        try:
            yield
        except (OSError, RuntimeError, DiskFullError) as e:
            if not (isinstance(e, DiskFullError) or disk_full(e)):
                raise
            what = (
                str(e)
                if isinstance(e, DiskFullError)
                else f"no space left on the disk of {self.path} ({free_space(self.path)} "
                f"free) to write the run's files"
            )
            safe = (
                f"a rerun resumes from {self.latest.name} at step {self._last_saved}"
                if self._last_saved >= 0 and self.latest.is_file()
                else "no checkpoint was written yet"
            )
            raise DiskFullError(
                f"{what}; nothing written before is damaged: {safe}. Free some space and run "
                f"the same command again"
            ) from None

    def save_best(self) -> None:
        ckpt.save_atomic(self.state.state_dict(), self.path / ckpt.BEST)

    def write_metrics(self, metric: str, progress: Progress, scores: dict[str, float]) -> None:
        """The last evaluation's scores and best.pt's, each with its step."""
        best = {"step": progress.best_step, "value": progress.best_value,
                "metrics": progress.best_metrics}  # fmt: skip
        last = {"step": progress.step, "metrics": scores}
        write_json({"metric": metric, "last": last, "best": best}, self.path / METRICS)


def _aside(path: Path) -> Path:
    """A name beside `path` for keeping a damaged file: `latest.pt.damaged`, then `-2`, ..."""
    aside, n = path.with_name(f"{path.name}.damaged"), 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.damaged-{n}")
    return aside
