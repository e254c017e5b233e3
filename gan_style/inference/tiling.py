"""Translating images too large for memory through overlapping tiles, with the norm layers'
statistics of the whole image, so that the tiles add up to the whole-image translation.

A norm layer (instance norm, AdaIN, batch norm at test time) normalises with statistics of its
whole input; a tile alone would see only its own, and its tones would drift from the
neighbours'. So the statistics are gathered first, one norm layer at a time in the order the
network runs them: every tile runs up to that layer (the layers before it already normalising
with whole-image statistics), and each tile adds the moments of the part of the image it owns
(the tiles' owned parts partition the image). A last pass translates the tiles with every
layer on whole-image statistics and blends them across their overlaps.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import numpy as np
import torch
from torch import nn

from gan_style.inference.padding import padded_side
from gan_style.inference.translation import translate_images
from gan_style.networks.generators import upscale_of


class _Stop(Exception):
    """Ends a tile's forward pass once the layer being measured has seen it."""


def _per_image_norms(net: nn.Module) -> list[nn.Module]:
    """Norm layers that normalise with their input's own statistics (instance norm; batch norm
    in training mode, which on one image is the same), in the order `net` runs them."""
    return [
        m
        for m in net.modules()
        if (isinstance(m, nn.InstanceNorm2d) and not m.track_running_stats)
        or (isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training)
    ]


def _ramp(length: int, overlap: int, at_start: bool, at_end: bool) -> np.ndarray:
    """Blend weights along one tile side: rising over the overlap unless at the image border."""
    w = np.ones(length, np.float32)
    ramp = (np.arange(overlap, dtype=np.float32) + 0.5) / overlap
    if not at_start:
        w[:overlap] = np.minimum(w[:overlap], ramp)
    if not at_end:
        w[length - overlap :] = np.minimum(w[length - overlap :], ramp[::-1])
    return w


def _starts(size: int, tile: int, stride: int) -> list[int]:
    if size <= tile:
        return [0]
    starts = list(range(0, size - tile, stride))
    return [*starts, size - tile]


def _owned(starts: list[int], tile: int, size: int) -> list[tuple[int, int]]:
    """The part of one axis each tile owns, in tile coordinates: up to the middle of each
    overlap, so that the owned parts partition the axis."""
    cuts = [0, *((a + tile + b) // 2 for a, b in itertools.pairwise(starts)), size]
    return [(lo - s, hi - s) for s, lo, hi in zip(starts, cuts, cuts[1:], strict=False)]


class WholeImageStatistics:
    """Forward hooks that make norm layers use the statistics of the whole image."""

    def __init__(self, norms: list[nn.Module]) -> None:
        self.norms = norms
        self.stats: dict[nn.Module, tuple[torch.Tensor, torch.Tensor]] = {}
        self.measuring: nn.Module | None = None
        self.moments: list[torch.Tensor] = []  # sum, sum of squares, count (float64)
        self.region = ((0, 0), (0, 0), (0, 0))  # owned rows, owned columns, padded tile size

    def _hook(self, module: nn.Module, inputs: tuple, output: torch.Tensor) -> torch.Tensor:
        x = inputs[0]
        if module is self.measuring:
            (y0, y1), (x0, x1), (height, width) = self.region
            sy, sx = height / x.shape[-2], width / x.shape[-1]
            rows = slice(int(y0 // sy), max(int(y0 // sy) + 1, int(-(-y1 // sy))))
            cols = slice(int(x0 // sx), max(int(x0 // sx) + 1, int(-(-x1 // sx))))
            part = x[..., rows, cols].double()
            moments = [part.sum((0, 2, 3)), (part * part).sum((0, 2, 3))]
            moments.append(torch.tensor(float(part[0, 0].numel() * len(part)), dtype=torch.float64))
            if self.moments:
                moments = [a + b for a, b in zip(self.moments, moments, strict=True)]
            self.moments = moments
            raise _Stop
        if module not in self.stats:
            return output
        mean, var = self.stats[module]
        y = (x - mean[None, :, None, None]) / torch.sqrt(var[None, :, None, None] + module.eps)
        if getattr(module, "affine", False):
            y = y * module.weight[None, :, None, None] + module.bias[None, :, None, None]
        return y

    @contextmanager
    def attached(self) -> Iterator[None]:
        handles = [m.register_forward_hook(self._hook) for m in self.norms]
        try:
            yield
        finally:
            for handle in handles:
                handle.remove()

    def finish(self, module: nn.Module, dtype: torch.dtype) -> None:
        total, squares, count = self.moments
        mean = total / count
        var = (squares / count - mean * mean).clamp(min=0)
        self.stats[module] = (mean.to(dtype), var.to(dtype))
        self.moments = []


def translate_tiled(
    generator: nn.Module,
    image: np.ndarray,
    tile: int,
    multiple: int = 4,
    overlap: int | None = None,
    style: torch.Tensor | None = None,
    whole_image_statistics: bool = True,
) -> np.ndarray:
    """Translate a large image through overlapping `tile` x `tile` windows blended linearly.

    Memory is bounded by one tile's activations plus two float buffers of the image. With
    `whole_image_statistics` (the default) the norm layers normalise every tile with the
    statistics of the whole image, so the result matches whole-image translation: one more
    pass over the tiles per norm layer, each stopping at that layer. Without it each tile is
    normalised by its own statistics, which is faster but lets tones drift between tiles.
    """
    h, w = image.shape[:2]
    if h <= tile and w <= tile:
        return translate_images(generator, [image], multiple, style=style)[0]
    overlap = overlap if overlap is not None else tile // 4
    stride = tile - overlap
    ys, xs = _starts(h, tile, stride), _starts(w, tile, stride)
    owned_y, owned_x = _owned(ys, tile, h), _owned(xs, tile, w)
    tiles = [(y, x, oy, ox) for y, oy in zip(ys, owned_y, strict=True)
             for x, ox in zip(xs, owned_x, strict=True)]  # fmt: skip

    def run(y: int, x: int) -> np.ndarray:
        return translate_images(
            generator, [image[y : y + tile, x : x + tile]], multiple, style=style
        )[0]

    norms = _per_image_norms(generator) if whole_image_statistics else []
    statistics = WholeImageStatistics(norms)
    dtype = next(generator.parameters()).dtype
    with statistics.attached():
        for norm in norms:  # modules() lists them in the order they run, for these networks
            statistics.measuring = norm
            for y, x, oy, ox in tiles:
                size = min(tile, h - y), min(tile, w - x)
                statistics.region = (
                    oy,
                    ox,
                    (padded_side(size[0], multiple), padded_side(size[1], multiple)),
                )
                with suppress(_Stop):
                    run(y, x)
            statistics.finish(norm, dtype)
        statistics.measuring = None
        s = upscale_of(generator)  # an enlarger's tiles come back s times larger
        acc = np.zeros((h * s, w * s, image.shape[2]), np.float32)
        total = np.zeros((h * s, w * s, 1), np.float32)
        for y, x, _, _ in tiles:
            out = run(y, x).astype(np.float32)
            ch, cw = out.shape[:2]
            wy = _ramp(ch, min(overlap * s, ch), y == 0, y * s + ch >= h * s)
            wx = _ramp(cw, min(overlap * s, cw), x == 0, x * s + cw >= w * s)
            weight = (wy[:, None] * wx[None, :])[:, :, None]
            acc[y * s : y * s + ch, x * s : x * s + cw] += out * weight
            total[y * s : y * s + ch, x * s : x * s + cw] += weight
    return np.clip(np.round(acc / total), 0, 255).astype(np.uint8)
