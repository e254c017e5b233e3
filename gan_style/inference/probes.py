"""Photo-like probe images, for checking converted networks against PyTorch and for calibrating
int8 ones when the user gives no photos."""

from __future__ import annotations

import numpy as np


def smooth_probe(rng: np.random.Generator, h: int, w: int, channels: int) -> np.ndarray:
    """A photo-like 8-bit image: gradients and noise, not white noise (whose outputs saturate)."""
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    phase = rng.uniform(0, 6, channels)
    image = np.stack(
        [0.5 + 0.4 * np.sin(5 * (xx + yy * (c + 1)) + phase[c]) for c in range(channels)], -1
    )
    image += rng.normal(0, 0.03, image.shape)
    return (np.clip(image, 0, 1) * 255).astype(np.uint8)


def leaves_probe(
    rng: np.random.Generator, h: int, w: int, channels: int, max_leaves: int = 3000
) -> np.ndarray:
    """A "dead leaves" image: opaque discs of random colours stacked front to back until the
    canvas is covered, mostly large ones (radius 1 + max(h, w) / 2 * u^2.5), then light noise.

    Flat regions with sharp edges are what photos have and gradients lack: an int8 network that
    was 1.5 grey levels from fp32 on smooth probes was 2.4 on these and 2.2-2.3 on landscape
    photos (monet2photo), so the int8 check judges on these. (Radii drawn from p(r) ~ r^-3,
    which fill the canvas with small discs, gave 1.4: no warning.)
    """
    image = np.zeros((h, w, channels))
    covered = np.zeros((h, w), bool)
    for _ in range(max_leaves):
        r = max(h, w) * 0.5 * rng.random() ** 2.5 + 1
        cy, cx = rng.random() * h, rng.random() * w
        top, bottom = max(0, int(cy - r)), min(h, int(cy + r) + 1)
        left, right = max(0, int(cx - r)), min(w, int(cx + r) + 1)
        yy, xx = np.ogrid[top:bottom, left:right]
        disc = ((yy - cy) ** 2 + (xx - cx) ** 2 < r * r) & ~covered[top:bottom, left:right]
        image[top:bottom, left:right][disc] = rng.random(channels)
        covered[top:bottom, left:right] |= disc
        if covered.all():
            break
    image += rng.normal(0, 0.02, image.shape)
    return (np.clip(image, 0, 1) * 255).astype(np.uint8)
