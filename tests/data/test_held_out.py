"""The held-out set of a config: one loader for evaluation, samples and galleries."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_style.config import Config
from gan_style.data import held_out_images, held_out_samples
from gan_style.errors import DataError, EvaluationError
from tests.conftest import tiny_config, write_images


@pytest.fixture
def cfg(tiny_dataset: Path, tmp_path: Path) -> Config:
    write_images(tiny_dataset / "testB_paired", 2, seed=9)
    return tiny_config(tiny_dataset, tmp_path / "runs")


def test_images_names_and_truth_per_side(cfg: Config, tiny_dataset: Path) -> None:
    held = held_out_images(cfg)
    assert held.names == {"A": ["img_000", "img_001"], "B": ["img_000", "img_001"]}
    expected = np.asarray(Image.open(tiny_dataset / "testA" / "img_001.png"))
    assert np.array_equal(held.inputs["A"][1], expected)  # full size, 8-bit, as stored
    truth = np.asarray(Image.open(tiny_dataset / "testB_paired" / "img_000.png"))
    assert set(held.truths) == {"A"} and np.array_equal(held.truths["A"][0], truth)


def test_limit_reads_the_first_images_only(cfg: Config) -> None:
    held = held_out_images(cfg, limit=1)
    assert [len(held.inputs[s]) for s in "AB"] == [1, 1] and len(held.truths["A"]) == 1


def test_missing_truth_is_named(cfg: Config, tiny_dataset: Path) -> None:
    (tiny_dataset / "testB_paired" / "img_001.png").unlink()
    with pytest.raises(EvaluationError, match="lacks ground truth for img_001"):
        held_out_images(cfg)


def test_missing_split(cfg: Config, tiny_dataset: Path) -> None:
    shutil.rmtree(tiny_dataset / "testB")
    with pytest.raises(DataError, match=r"no held-out images in .*testB"):
        held_out_images(cfg)


def test_samples_are_network_inputs(cfg: Config) -> None:
    samples = held_out_samples(cfg, 5, multiple=4)
    assert samples["A"].shape == samples["B"].shape == (2, 3, 32, 32)  # crop size, both sides
    assert samples["A"].min() >= -1 and samples["A"].max() <= 1
    assert not np.allclose(samples["A"].numpy(), samples["B"].numpy())


@pytest.mark.parametrize("mode", ["paired", "aligned"])
def test_an_unreadable_pair_is_named_and_the_others_kept(
    tmp_path: Path, mode: str, capsys: pytest.CaptureFixture
) -> None:
    from tests.models.test_pix2pix import aligned_dataset

    root = tmp_path / "pairs"
    if mode == "aligned":
        aligned_dataset(root, count=3)
        bad = sorted((root / "test").glob("*.png"))[1]
    else:
        write_images(root / "testA", 3)
        write_images(root / "testB", 3, seed=5)
        bad = root / "testB" / "img_001.png"
    bad.write_bytes(b"not an image")
    cfg = tiny_config(root, tmp_path / "runs", data={"dataset_mode": mode})
    held = held_out_images(cfg)
    assert len(held.inputs["A"]) == len(held.truths["A"]) == 2
    assert bad.stem not in held.names["A"]
    err = capsys.readouterr().err
    assert err.startswith("skipped: ") and str(bad) in err and err.count("\n") == 1
