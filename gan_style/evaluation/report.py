"""Writing scores: per-image CSV, summary JSON, and tables as text, CSV or markdown."""

from __future__ import annotations

import csv
import io
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from gan_style.disk import write_atomic
from gan_style.evaluation.protocols import ImageScore
from gan_style.evaluation.statistics import summarize

CSV_COLUMNS = ("protocol", "direction", "image", "ssim", "psnr", "mae", "lpips")
DISTRIBUTION_METRICS = ("fid", "kid")
TABLE_FORMATS = ("text", "csv", "markdown")


def json_safe(obj: Any) -> Any:
    """JSON has no infinity: +inf/-inf become the strings "inf"/"-inf" and NaN becomes null."""
    if isinstance(obj, float):
        if math.isnan(obj):
            return None
        if math.isinf(obj):
            return "inf" if obj > 0 else "-inf"
        return obj
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def write_json(obj: Any, path: Path) -> None:
    """Whole or not at all: a run killed mid-write (scores written after every run of an
    hours-long `gan-style quality`) leaves the previous file intact."""
    text = json.dumps(json_safe(obj), indent=2, allow_nan=False) + "\n"
    write_atomic(path, lambda f: f.write(text.encode()))


def write_scores_csv(scores: list[ImageScore], path: Path) -> None:
    """One row per scored image, whole or not at all."""
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(CSV_COLUMNS)
    for s in scores:
        lpips = "" if s.lpips is None else f"{s.lpips:.6f}"
        writer.writerow(
            [s.protocol, s.direction, s.image, f"{s.ssim:.6f}", f"{s.psnr:.4f}",
             f"{s.mae:.4f}", lpips]
        )  # fmt: skip
    write_atomic(path, lambda f: f.write(text.getvalue().encode()))


def summarize_scores(scores: list[ImageScore]) -> dict[str, dict[str, dict[str, dict]]]:
    """{protocol: {direction: {"ssim": stats, "psnr": stats, "mae": stats[, "lpips": stats]}}}."""
    grouped: dict[tuple[str, str], list[ImageScore]] = defaultdict(list)
    for s in scores:
        grouped[(s.protocol, s.direction)].append(s)
    out: dict[str, dict[str, dict[str, dict]]] = defaultdict(dict)
    for (protocol, direction), group in grouped.items():
        out[protocol][direction] = {
            "ssim": summarize([s.ssim for s in group]),
            "psnr": summarize([s.psnr for s in group]),
            "mae": summarize([s.mae for s in group]),
        }
        if all(s.lpips is not None for s in group):
            out[protocol][direction]["lpips"] = summarize([s.lpips for s in group])
    return dict(out)


def render_table(headers: list[str], rows: list[list[Any]], fmt: str = "text") -> str:
    cells = [[str(c) for c in row] for row in rows]
    if fmt == "csv":
        buf = io.StringIO()
        csv.writer(buf).writerows([headers, *cells])
        return buf.getvalue()
    if fmt == "markdown":
        lines = [headers, ["---"] * len(headers), *cells]
        return "\n".join("| " + " | ".join(line) + " |" for line in lines) + "\n"
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *cells, strict=True)]
    lines = [headers, ["-" * w for w in widths], *cells]
    return (
        "\n".join(
            "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
            for line in lines
        )
        + "\n"
    )


def fmt_number(value: float, digits: int = 4) -> str:
    if math.isinf(value):
        return "inf"
    return "nan" if math.isnan(value) else f"{value:.{digits}f}"


def summary_rows(metrics: dict) -> list[list[str]]:
    """Rows protocol | direction | metric | mean | std | median | 95% CI | n."""
    rows = []
    for protocol, directions in metrics.items():
        if protocol in DISTRIBUTION_METRICS:
            continue
        for direction, by_metric in directions.items():
            for metric, s in by_metric.items():
                ci = f"[{fmt_number(s['ci95'][0])}, {fmt_number(s['ci95'][1])}]"
                stats = [fmt_number(s[k]) for k in ("mean", "std", "median")]
                rows.append([protocol, direction, metric, *stats, ci, s["n"]])
    for name in DISTRIBUTION_METRICS:
        for direction, value in metrics.get(name, {}).items():
            mean, std = distribution_value(value)
            n = value.get("translated_images", "") if isinstance(value, dict) else ""
            rows.append([name, direction, name, fmt_number(mean), fmt_number(std), "", "", n])
    return rows


def distribution_value(value: Any) -> tuple[float, float]:
    """(value, std) of an FID or KID entry: {"value"}, {"mean", "std"}, or an older bare number."""
    if not isinstance(value, dict):
        return float(value), float("nan")
    if "value" in value:
        return float(value["value"]), float("nan")
    return float(value["mean"]), float(value["std"])


SUMMARY_HEADERS = ["protocol", "direction", "metric", "mean", "std", "median", "95% CI", "n"]
