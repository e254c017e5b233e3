"""Sample grids a reader can tell apart: each column named above it (input, translation,
reconstruction...) and the training step, drawn into the image itself, so a PNG under
`samples/` or TensorBoard's image explains itself."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

# The sample columns' names (`sample_columns`) as the header says them; others as they are
# ("fake_B:monet" reads "A->monet").
LABELS = {
    "real_A": "A", "fake_B": "A->B", "rec_A": "A->B->A", "real_B": "B", "fake_A": "B->A",
    "rec_B": "B->A->B", "idt_B": "B->B", "gray": "grey", "colourised": "coloured",
}  # fmt: skip
LINE = 12  # px per header line: the step, then the column names
PAPER, INK = 255, 0


def column_label(name: str) -> str:
    if name.startswith("fake_B:"):
        return "A->" + name.split(":", 1)[1]
    return LABELS.get(name, name)


def labelled(
    grid: torch.Tensor, names: list[str], step: int, tile: int, padding: int = 2
) -> torch.Tensor:
    """`grid` (C x H x W in [0, 1], `make_grid`'s layout: columns of `tile` px with `padding`
    between) with two header lines above it: "step N", and each column's name centred over it."""
    font = ImageFont.load_default()
    channels, width = grid.shape[0], grid.shape[-1]
    header = Image.new("L", (width, 2 * LINE), PAPER)
    draw = ImageDraw.Draw(header)
    draw.text((padding, 0), f"step {step:,}", fill=INK, font=font)
    for i, name in enumerate(names):
        label = column_label(name)
        centre = padding + i * (tile + padding) + tile / 2
        text_width = draw.textlength(label, font=font)
        draw.text((max(0.0, centre - text_width / 2), LINE), label, fill=INK, font=font)
    strip = torch.from_numpy(np.asarray(header, dtype=np.float32) / 255).to(grid.dtype)
    return torch.cat([strip.expand(channels, -1, -1), grid], dim=1)
