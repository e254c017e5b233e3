"""Summary statistics: of per-image scores, with a bootstrap confidence interval; of a few
seeds' results, with a Student-t interval."""

from __future__ import annotations

import math
import statistics

import numpy as np

BOOTSTRAP_RESAMPLES = 2000


def summarize(values: list[float], seed: int = 0) -> dict[str, float | int | list[float]]:
    """mean, std (sample), median, min, max, n and a 95% percentile-bootstrap interval of the mean.

    An infinite PSNR (identical images) makes the mean and max infinite; the std is then NaN.
    """
    x = np.asarray(values, dtype=np.float64)
    n = len(x)
    if n == 0:
        return {"n": 0}
    with np.errstate(invalid="ignore", over="ignore"):
        std = float(x.std(ddof=1)) if n > 1 else 0.0
        rng = np.random.default_rng(seed)
        means = x[rng.integers(0, n, size=(BOOTSTRAP_RESAMPLES, n))].mean(axis=1)
        low, high = (
            np.percentile(means, [2.5, 97.5])
            if np.isfinite(means).all()
            else (float(means.min()), float(means.max()))
        )
    return {
        "mean": float(x.mean()),
        "std": std if not math.isinf(x.max()) else float("nan"),
        "median": float(np.median(x)),
        "min": float(x.min()),
        "max": float(x.max()),
        "n": n,
        "ci95": [float(low), float(high)],
    }


T_95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}


def interval(values: list[float]) -> dict:
    """Mean, sample std and a 95% Student-t interval of the mean (None for one value)."""
    mean = statistics.mean(values)
    if len(values) < 2:
        return {"mean": mean, "std": None, "ci95": None}
    std = statistics.stdev(values)
    half = T_95.get(len(values) - 1, 1.96) * std / math.sqrt(len(values))
    return {"mean": mean, "std": std, "ci95": [mean - half, mean + half]}
