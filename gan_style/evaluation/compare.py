"""Comparing runs: final metrics side by side with the config keys that differ between them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gan_style.config import flatten
from gan_style.errors import CheckpointError, EvaluationError
from gan_style.evaluation.report import DISTRIBUTION_METRICS, distribution_value, fmt_number
from gan_style.runtime import checkpoint as ckpt


def _number(value: Any) -> float | None:
    if value in ("inf", "-inf"):
        return float(value)
    return float(value) if isinstance(value, (int, float)) else None


@dataclass
class TrainingScores:
    """One checkpoint's held-out scores from metrics.json: the last one's or best.pt's."""

    label: str  # "last" or "best"
    step: int | None
    scores: dict[str, Any]
    picked_by: str | None = None  # best.pt: the eval.metric that picked it

    @property
    def title(self) -> str:
        return f"{self.label} by {self.picked_by}" if self.picked_by else self.label


def training_scores(run_dir: Path) -> list[TrainingScores]:
    """The last checkpoint's scores, then best.pt's when one was picked; runs written before
    best scores were kept give only the last."""
    path = run_dir / "metrics.json"
    if not path.is_file():
        return []
    data = json.loads(path.read_text())
    if "last" not in data:  # older layout: {"step", "metrics", "best": {"metric", "value", "step"}}
        return [TrainingScores("last", data["step"], data["metrics"])]
    rows = [TrainingScores("last", data["last"]["step"], data["last"]["metrics"])]
    best = data.get("best", {})
    if best.get("step", -1) >= 0 and best.get("metrics"):
        rows.append(TrainingScores("best", best["step"], best["metrics"], data["metric"]))
    return rows


def _summary_label(summary: dict, last_step: int | None) -> str:
    """best.pt's scores are "best"; the run's last checkpoint's "last"; any other "step N"."""
    if Path(summary["checkpoint"]).name == ckpt.BEST:
        return "best"
    return "last" if summary["step"] == last_step else f"step {summary['step']}"


def run_metrics(run_dir: Path) -> dict[str, float | None]:
    """Training-time held-out scores (metrics.json) and `gan-style evaluate`'s means, each
    labelled by whose they are: the last checkpoint's or the best one's."""
    out: dict[str, float | None] = {}
    last_step = checkpoint_step(run_dir)
    for row in training_scores(run_dir):
        out.setdefault("step", row.step)
        if row.label == "best":
            out["best_step"] = row.step
        out |= {f"{row.label}/eval/{k}": _number(v) for k, v in row.scores.items()}
    summaries = sorted((run_dir / "eval").glob("*/summary.json"), key=lambda p: p.stat().st_mtime)
    for path in summaries:  # newest last: it wins for its label
        data = json.loads(path.read_text())
        label = _summary_label(data, last_step)
        if label.startswith("step"):
            continue
        if label == "best":
            out["best_step"] = data["step"]
        else:
            out.setdefault("step", data["step"])
        for protocol, directions in data["metrics"].items():
            for direction, value in directions.items():
                if protocol in DISTRIBUTION_METRICS:
                    out[f"{label}/{protocol}/{direction}"] = _number(distribution_value(value)[0])
                else:  # {"ssim": stats, ...}
                    for metric, stats in value.items():
                        out[f"{label}/{protocol}/{direction}/{metric}"] = _number(stats.get("mean"))
    if "step" not in out:  # neither scored nor evaluated: the newest checkpoint knows
        out["step"] = last_step
    return out


def checkpoint_step(run_dir: Path) -> int | None:
    """The step of the run's newest checkpoint (generator.pt, else latest.pt), if any."""
    for name in (ckpt.GENERATOR, ckpt.LATEST):
        if (run_dir / name).is_file():
            try:
                state = ckpt.load(run_dir / name)
            except CheckpointError:
                continue
            if isinstance(state, dict) and isinstance(state.get("step"), int):
                return state["step"]
    return None


def compare_runs(run_dirs: list[Path]) -> tuple[list[str], list[list[str]]]:
    """Headers and rows: run, step, every metric any run has, then each differing config key."""
    runs = []
    for run_dir in run_dirs:
        config = run_dir / "config.yaml"
        if not config.is_file():
            raise EvaluationError(f"{run_dir} has no config.yaml; is it a run folder?")
        runs.append((run_dir, flatten(yaml.safe_load(config.read_text())), run_metrics(run_dir)))
    metric_keys = list(
        dict.fromkeys(k for _, _, m in runs for k in m if k not in ("step", "best_step"))
    )
    config_keys = list(dict.fromkeys(k for _, c, _ in runs for k in c))
    differing = [
        k
        for k in config_keys
        if k != "log.runs_dir" and len({repr(c.get(k)) for _, c, _ in runs}) > 1
    ]
    headers = ["run", "step", "best_step", *metric_keys, *differing]
    rows = []
    for run_dir, config, metrics in runs:
        steps = [metrics.get("step"), metrics.get("best_step")]
        cells = [str(run_dir), *("" if s is None else str(s) for s in steps)]
        cells += [fmt_number(metrics[k]) if metrics.get(k) is not None else "" for k in metric_keys]
        cells += [str(config.get(k, "")) for k in differing]
        rows.append(cells)
    return headers, rows
