"""Sample grids name their columns and the step in the picture itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision.utils import make_grid

from gan_style.training.grid_labels import LINE, column_label, labelled
from gan_style.training.logger import RunLogger


def test_each_column_is_named_over_it_and_the_step_on_top(tmp_path: Path) -> None:
    torch.manual_seed(0)
    images = {name: torch.rand(2, 3, 40, 40) * 2 - 1 for name in ("real_A", "fake_B", "rec_A")}
    logger = RunLogger(tmp_path)
    path = logger.samples(25, images)
    logger.close()
    saved = np.asarray(Image.open(path).convert("L")).astype(int)
    rows = torch.stack(list(images.values()), dim=1).flatten(0, 1)
    grid = make_grid(rows, nrow=3, normalize=True, value_range=(-1, 1))
    assert saved.shape == (grid.shape[1] + 2 * LINE, grid.shape[2])
    below = np.asarray(Image.open(path).convert("RGB"))[2 * LINE :]
    assert np.abs(below - grid.mul(255).round().permute(1, 2, 0).numpy()).max() <= 1  # unchanged
    step_line, names_line = saved[:LINE], saved[LINE : 2 * LINE]
    assert (step_line[:, :40] < 128).any() and not (step_line[:, 60:] < 128).any()  # "step 25"
    for column in range(3):  # ink over each column, none in the gaps between
        left = 2 + column * 42
        assert (names_line[:, left : left + 40] < 128).any()
    assert not (names_line[:, :2] < 128).any()


def test_labels_read_as_directions() -> None:
    assert [column_label(n) for n in ("real_A", "fake_B", "rec_A", "idt_B")] == [
        "A", "A->B", "A->B->A", "B->B"]  # fmt: skip
    assert column_label("fake_B:monet") == "A->monet" and column_label("other") == "other"
    grey = labelled(torch.zeros(1, 10, 30), ["gray"], 3, tile=26)
    assert grey.shape == (1, 10 + 2 * LINE, 30) and grey[:, 2 * LINE :].eq(0).all()
