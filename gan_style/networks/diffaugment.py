"""Differentiable augmentation for discriminators (DiffAugment, Zhao et al. 2020).

With a few dozen paintings a discriminator memorises them and its verdicts stop guiding the
generator. DiffAugment transforms every image a discriminator sees, real and fake alike, in
the discriminator's step and in the generator's, with operations that let gradients through
to the generator: the discriminator never sees an unaugmented image, so the generator is not
pushed towards the augmentations (which plain data augmentation of the reals would do).

`model.diffaugment` names the operations, comma-separated, as the paper's code does:
- `color`: per image, brightness (+-0.5), saturation (x0-2) and contrast (x0.5-1.5);
- `translation`: a shift by up to 1/8 of the side, the uncovered border zero-padded;
- `cutout`: a zeroed square of half the side at a random place.

Conditional discriminators (pix2pix's, seeing drawing and painting stacked) get the same
transform on every 3-channel group, so the pair stays aligned.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5


def _groups(x: torch.Tensor) -> torch.Tensor:
    """N x C x H x W -> N x G x c x H x W, c = 3 for colour images (stacked pairs: G = 2)."""
    c = 3 if x.shape[1] % 3 == 0 else x.shape[1]
    return x.reshape(x.shape[0], -1, c, *x.shape[2:])


def color(x: torch.Tensor) -> torch.Tensor:
    g = _groups(x)
    n = g.shape[0]
    shape = (n, 1, 1, 1, 1)
    g = g + (torch.rand(shape, device=x.device, dtype=x.dtype) - 0.5)
    mean = g.mean(dim=2, keepdim=True)
    g = (g - mean) * (torch.rand(shape, device=x.device, dtype=x.dtype) * 2) + mean
    mean = g.mean(dim=(2, 3, 4), keepdim=True)
    g = (g - mean) * (torch.rand(shape, device=x.device, dtype=x.dtype) + 0.5) + mean
    return g.reshape(x.shape)


def translation(x: torch.Tensor) -> torch.Tensor:
    """Each image shifted by whole pixels (a gather, so gradients reach every kept pixel)."""
    n, _, h, w = x.shape
    sy, sx = int(h * TRANSLATION_RATIO + 0.5), int(w * TRANSLATION_RATIO + 0.5)
    dy = torch.randint(-sy, sy + 1, (n, 1, 1), device=x.device)
    dx = torch.randint(-sx, sx + 1, (n, 1, 1), device=x.device)
    ys = torch.arange(h, device=x.device)[None, :, None] + dy + 1
    xs = torch.arange(w, device=x.device)[None, None, :] + dx + 1
    padded = F.pad(x, (1, 1, 1, 1))  # the zero border every out-of-range index lands on
    ys, xs = ys.clamp(0, h + 1).expand(n, h, w), xs.clamp(0, w + 1).expand(n, h, w)
    index = (ys * (w + 2) + xs).reshape(n, 1, h * w).expand(-1, x.shape[1], -1)
    return padded.reshape(n, x.shape[1], -1).gather(2, index).reshape(x.shape)


def cutout(x: torch.Tensor) -> torch.Tensor:
    n, _, h, w = x.shape
    ch, cw = int(h * CUTOUT_RATIO + 0.5), int(w * CUTOUT_RATIO + 0.5)
    cy = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), device=x.device)
    cx = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), device=x.device)
    ys = torch.arange(h, device=x.device)[None, :, None]
    xs = torch.arange(w, device=x.device)[None, None, :]
    inside = ((ys - cy).abs() <= ch // 2) & ((xs - cx).abs() <= cw // 2)
    return x * (~inside).unsqueeze(1).to(x.dtype)


OPERATIONS = {"color": color, "translation": translation, "cutout": cutout}


def parse_policy(policy: str) -> list[str]:
    """ "color,translation" -> its operations; an unknown name is a ValueError naming them."""
    names = [p.strip() for p in policy.split(",") if p.strip()]
    unknown = [p for p in names if p not in OPERATIONS]
    if unknown:
        raise ValueError(
            f"unknown DiffAugment operation {', '.join(unknown)}; choose from "
            f"{', '.join(OPERATIONS)} (comma-separated), or '' for none"
        )
    return names


def augment(x: torch.Tensor, policy: list[str]) -> torch.Tensor:
    for name in policy:
        x = OPERATIONS[name](x)
    return x


def attach(discriminator: nn.Module, policy: str) -> None:
    """Augment every input `discriminator` gets while training (its first argument; a
    multistyle critic's style code passes untouched). A forward pre-hook: the weights and
    checkpoints are those of the plain network."""
    names = parse_policy(policy)
    if not names:
        return

    def hook(module: nn.Module, args: tuple) -> tuple | None:
        if not module.training:
            return None
        return (augment(args[0], names), *args[1:])

    discriminator.register_forward_pre_hook(hook)
