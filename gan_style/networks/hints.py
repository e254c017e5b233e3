"""Colour hints spread over the image before a generator sees them.

A colour-filling generator given a drawing with a few colour strokes (`data.sketch_hints`)
learns slowly to carry each stroke's colour across its region: a small network, trained
briefly, ignores them. `HintSpread` hands it the colours already spread, as extra input
channels: the hint pixels (where the channels differ, as on colour and not on grey ink or
paper) averaged over cells of 4 and 16 px and over the whole image, each divided by how much
of its cell is hint (normalised convolution, Knutsson & Westin 1993), upsampled to the image,
with that fraction beside it as a confidence. The generator still decides what to make of them.
The generator's output is then added to the nearest spread colour, so it learns a change to
the hints' colours. Fixed operations only (no weights): checkpoints, export and the CPU engine
take it as is.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

CELLS = (4, 16)  # px: the local scales the hints are averaged over; the whole image besides
# The least difference between a pixel's channels that marks it as a hint, in [-1, 1] units
# (24 grey levels, as `data.sketch.HINT_SATURATION`).
SATURATION = 24 / 127.5
EXTRA_CHANNELS = 4 * (len(CELLS) + 1)  # per scale: the spread colour and its confidence


class HintSpread(nn.Module):
    """N x 3 x H x W images in [-1, 1] -> the images and their spread hints,
    N x (3 + EXTRA_CHANNELS) x H x W."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mask = ((x.amax(1, keepdim=True) - x.amin(1, keepdim=True)) > SATURATION).to(x.dtype)
        colours = x * mask
        size = x.shape[-2:]
        found = [x]
        for cell in CELLS:
            pooled = F.avg_pool2d(torch.cat([colours, mask], 1), cell, ceil_mode=True)
            pooled = F.interpolate(pooled, size=size, mode="bilinear", align_corners=False)
            found += self._normalised(pooled)
        whole = torch.cat([colours, mask], 1).mean((2, 3), keepdim=True).expand(-1, -1, *size)
        found += self._normalised(whole)
        return torch.cat(found, 1)

    @staticmethod
    def _normalised(pooled: torch.Tensor) -> list[torch.Tensor]:
        colour, weight = pooled[:, :3], pooled[:, 3:]
        return [(colour / weight.clamp_min(1e-3)).clamp(-1, 1), weight * 2 - 1]


def underlay(spread: torch.Tensor) -> torch.Tensor:
    """Each pixel's nearest spread colour from `HintSpread`'s output: the 4 px cells' where
    they hold a hint, else the 16 px cells', else the whole image's; 0 (mid grey) without
    hints."""
    found = torch.zeros_like(spread[:, :3])
    for first in range(3 + EXTRA_CHANNELS - 4, 2, -4):  # whole image first, finest last
        colour, confidence = spread[:, first : first + 3], spread[:, first + 3 : first + 4]
        found = torch.where(confidence > -1, colour, found)
    return found


class HintedGenerator(nn.Module):
    """A generator whose input is first extended by `HintSpread`, and whose output is a change
    to the hints' colours (`underlay`): normalisation layers remove an input's absolute colour,
    so it reaches the output around them, as a global skip carries an image's."""

    def __init__(self, generator: nn.Module) -> None:
        super().__init__()
        self.spread = HintSpread()
        self.generator = generator
        self.image_channels = 3  # RGB drawings; the generator's first layer takes more

    def forward(self, x: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor:
        """`style`: accepted as every generator's forward accepts it; drawings have none."""
        spread = self.spread(x)
        return (self.generator(spread) + underlay(spread)).clamp(-1, 1)
