"""How an image of any size fits a network whose sides must be multiples of a number (shared by
the PyTorch path and the CPU engine's, so both pad the same way)."""

from __future__ import annotations

MIN_SIDE = 16  # px: below this a ResNet generator's bottleneck is too small to pad


def padded_side(side: int, multiple: int) -> int:
    """The side a network sees for an image side: a multiple of `multiple`, at least MIN_SIDE."""
    return max(-(-side // multiple) * multiple, -(-MIN_SIDE // multiple) * multiple)


def pads(height: int, width: int, multiple: int) -> tuple[int, int, bool]:
    """Rows and columns to add below and right, and whether reflection can make them (it needs
    more pixels than it adds; otherwise the border pixels are repeated)."""
    pad_h, pad_w = padded_side(height, multiple) - height, padded_side(width, multiple) - width
    return pad_h, pad_w, pad_h < height and pad_w < width
