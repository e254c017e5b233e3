"""Comparing runs: final metrics side by side with the config keys that differ between them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from gan_style.config import flatten
from gan_style.errors import CheckpointError, EvaluationError
from gan_style.evaluation.report import fmt_number
from gan_style.runtime import checkpoint as ckpt


def _number(value: Any) -> float | None:
    if value in ("inf", "-inf"):
        return float(value)
    return float(value) if isinstance(value, (int, float)) else None


def run_metrics(run_dir: Path) -> dict[str, float | None]:
    """Training-time held-out scores (metrics.json) and the newest `gan-style evaluate` means."""
    out: dict[str, float | None] = {}
    if (run_dir / "metrics.json").is_file():
        data = json.loads((run_dir / "metrics.json").read_text())
        out["step"] = data["step"]
        out |= {f"eval/{k}": _number(v) for k, v in data["metrics"].items()}
    summaries = sorted((run_dir / "eval").glob("*/summary.json"), key=lambda p: p.stat().st_mtime)
    if summaries:
        data = json.loads(summaries[-1].read_text())
        out.setdefault("step", data["step"])
        for protocol, directions in data["metrics"].items():
            for direction, value in directions.items():
                if isinstance(value, dict) and "mean" not in value:  # {"ssim": stats, ...}
                    for metric, stats in value.items():
                        out[f"{protocol}/{direction}/{metric}"] = _number(stats.get("mean"))
                else:  # fid: a number; kid: {"mean", "std"}
                    mean = value["mean"] if isinstance(value, dict) else value
                    out[f"{protocol}/{direction}"] = _number(mean)
    if "step" not in out:  # neither scored nor evaluated: the newest checkpoint knows
        out["step"] = checkpoint_step(run_dir)
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
    metric_keys = list(dict.fromkeys(k for _, _, m in runs for k in m if k != "step"))
    config_keys = list(dict.fromkeys(k for _, c, _ in runs for k in c))
    differing = [
        k
        for k in config_keys
        if k != "log.runs_dir" and len({repr(c.get(k)) for _, c, _ in runs}) > 1
    ]
    headers = ["run", "step", *metric_keys, *differing]
    rows = []
    for run_dir, config, metrics in runs:
        step = metrics.get("step")
        cells = [str(run_dir), "" if step is None else str(step)]
        cells += [fmt_number(metrics[k]) if metrics.get(k) is not None else "" for k in metric_keys]
        cells += [str(config.get(k, "")) for k in differing]
        rows.append(cells)
    return headers, rows
