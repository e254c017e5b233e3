from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from gan_style.errors import EvaluationError
from gan_style.evaluation import luminance, psnr, score_folders, ssim, summarize
from gan_style.evaluation.protocols import match_by_name
from gan_style.evaluation.report import (
    CSV_COLUMNS,
    json_safe,
    render_table,
    summarize_scores,
    write_json,
    write_scores_csv,
)

REPO = Path(__file__).resolve().parents[2]


def noisy_pair(seed: int = 0, shape: tuple = (24, 20, 3)) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, shape, dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-30, 31, shape), 0, 255).astype(np.uint8)
    return a, b


class TestMetrics:
    def test_equal_direct_scikit_image(self) -> None:
        a, b = noisy_pair()
        assert ssim(a, b) == structural_similarity(a, b, channel_axis=-1, data_range=255)
        assert psnr(a, b) == peak_signal_noise_ratio(a, b, data_range=255)

    def test_psnr_by_hand(self) -> None:
        a = np.zeros((8, 8, 3), np.uint8)
        b = a.copy()
        b[0, 0, 0] = 10  # MSE = 100 / 192
        assert psnr(a, b) == pytest.approx(10 * math.log10(255**2 / (100 / 192)))

    def test_identical(self) -> None:
        a, _ = noisy_pair()
        assert ssim(a, a) == 1.0 and psnr(a, a) == math.inf

    def test_different_sizes_is_an_error(self) -> None:
        with pytest.raises(
            EvaluationError, match=r"x\.png: images differ in size \(20x24 vs 21x24\)"
        ):
            ssim(*noisy_pair()[:1], np.zeros((24, 21, 3), np.uint8), name="x.png")

    def test_needs_8bit(self) -> None:
        a, _ = noisy_pair()
        with pytest.raises(EvaluationError, match="8-bit"):
            psnr(a, a.astype(np.float32))

    def test_grayscale(self) -> None:
        a, b = noisy_pair(shape=(16, 16, 1))
        assert ssim(a, b) == structural_similarity(a[..., 0], b[..., 0], data_range=255)

    def test_luminance_bt601(self) -> None:
        image = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255]]], np.uint8)
        assert luminance(image)[0, :, 0].tolist() == [76, 150, 29]


class TestSummarize:
    def test_known_values(self) -> None:
        s = summarize([1.0, 2.0, 3.0, 4.0])
        assert (s["mean"], s["median"], s["min"], s["max"], s["n"]) == (2.5, 2.5, 1.0, 4.0, 4)
        assert s["std"] == pytest.approx(np.std([1, 2, 3, 4], ddof=1))
        low, high = s["ci95"]
        assert 1.0 <= low < 2.5 < high <= 4.0

    def test_infinite_psnr(self) -> None:
        s = summarize([30.0, math.inf])
        assert s["mean"] == math.inf and math.isnan(s["std"]) and s["max"] == math.inf

    def test_json_has_no_bare_infinity(self, tmp_path: Path) -> None:
        assert json_safe({"a": [math.inf, -math.inf, math.nan, 1.5]}) == {
            "a": ["inf", "-inf", None, 1.5]
        }
        write_json({"psnr": math.inf}, tmp_path / "s.json")
        assert json.loads((tmp_path / "s.json").read_text()) == {"psnr": "inf"}


def save(folder: Path, name: str, image: np.ndarray) -> None:
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(folder / name)


class TestProtocols:
    def test_paired_matches_by_name_and_equals_direct(self, tmp_path: Path) -> None:
        pairs = [noisy_pair(seed) for seed in range(3)]
        for i, (a, b) in enumerate(pairs):
            save(tmp_path / "out", f"img{i}.png", a)
            save(tmp_path / "truth", f"img{i}.png", b)
        scores = score_folders("paired", "AtoB", tmp_path / "out", tmp_path / "truth")
        assert [s.image for s in scores] == ["img0", "img1", "img2"]
        assert scores[1].ssim == pytest.approx(ssim(*pairs[1])) and scores[1].psnr == pytest.approx(
            psnr(*pairs[1])
        )

    def test_content_uses_luminance(self, tmp_path: Path) -> None:
        a, _ = noisy_pair()
        save(tmp_path / "in", "x.png", a)
        save(tmp_path / "out", "x.png", a[..., ::-1].copy())  # channels swapped: colour changes
        score = score_folders("content", "AtoB", tmp_path / "in", tmp_path / "out")[0]
        assert score.ssim == pytest.approx(ssim(luminance(a), luminance(a[..., ::-1].copy())))
        assert score.ssim < 1.0

    def test_missing_and_extra_are_named(self, tmp_path: Path) -> None:
        a, b = noisy_pair()
        for name in ("one.png", "two.png"):
            save(tmp_path / "out", name, a)
        for name in ("one.jpg", "three.png"):  # extensions may differ
            save(tmp_path / "truth", name, b)
        with pytest.raises(EvaluationError) as err:
            match_by_name(tmp_path / "out", tmp_path / "truth")
        assert (
            "no match in" in str(err.value)
            and "two" in str(err.value)
            and "three" in str(err.value)
        )

    def test_csv_and_summary_schema(self, tmp_path: Path) -> None:
        a, b = noisy_pair()
        save(tmp_path / "out", "x.png", a)
        save(tmp_path / "truth", "x.png", b)
        scores = score_folders("paired", "AtoB", tmp_path / "out", tmp_path / "truth")
        write_scores_csv(scores, tmp_path / "per_image.csv")
        rows = list(csv.DictReader((tmp_path / "per_image.csv").open()))
        assert tuple(rows[0]) == CSV_COLUMNS and rows[0]["image"] == "x"
        stats = summarize_scores(scores)["paired"]["AtoB"]["ssim"]
        assert set(stats) == {"mean", "std", "median", "min", "max", "n", "ci95"}

    def test_tables(self) -> None:
        assert (
            render_table(["a", "b"], [[1, "x"]], "markdown")
            == "| a | b |\n| --- | --- |\n| 1 | x |\n"
        )
        assert render_table(["a", "b"], [[1, "x"]], "csv").splitlines() == ["a,b", "1,x"]
        assert render_table(["a", "b"], [[10, "x"]], "text").splitlines()[2] == "10  x"


def test_package_imports_without_training_code() -> None:
    code = (
        "import sys, gan_style.evaluation as e; "
        "bad = [m for m in sys.modules if m.startswith(('gan_style.training', 'gan_style.models', "
        "'gan_style.networks', 'albumentations'))]; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
