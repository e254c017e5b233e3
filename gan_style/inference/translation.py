"""Translating 8-bit images with a generator: any size (padded to the network's multiple and
cropped back), in batches of equal size, or in overlapping tiles for images too large for
memory."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gan_style.inference.padding import pads
from gan_style.runtime import speed
from gan_style.runtime.lanes import default_lanes, map_in_lanes


def _batches(images: list[np.ndarray], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of consecutive images of one size."""
    groups: list[list[int]] = []
    for i, image in enumerate(images):
        if groups and len(groups[-1]) < batch_size and images[groups[-1][0]].shape == image.shape:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def draws_randomly(generator: nn.Module) -> bool:
    """Whether some module runs in training behaviour (pix2pix's test-time dropout): its draws
    from the global generator are reproducible only one image after the other."""
    return any(m.training for m in generator.modules())


GPU_BATCH = 8  # images of one size per pass on accelerators


def translate_images(
    generator: nn.Module,
    images: list[np.ndarray],
    multiple: int = 4,
    batch_size: int | None = None,
    style: torch.Tensor | None = None,
    precision: str = "fp32",
    lanes: int | None = None,
) -> list[np.ndarray]:
    """Translate HxWxC uint8 images with PyTorch; each output has its input's size.

    `batch_size` None: 1 on CPU (batches measured slower there, and their activations take
    memory), `GPU_BATCH` elsewhere. One image at a time goes through `lanes` (None: the
    device's default), several images in flight on a share of the cores each.

    Sides are padded (by reflection) up to the network's multiple, and to at least
    `MIN_SIDE`, then cropped back, so any size and aspect ratio works, down to 1x1 (the
    ResNet's bottleneck works at a quarter of the input's size and pads by reflection itself).
    """
    device = next(generator.parameters()).device
    if batch_size is None:
        batch_size = 1 if device.type == "cpu" else GPU_BATCH
    if any(
        isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training for m in generator.modules()
    ):
        batch_size = 1  # batch statistics: each image is normalised by its own, as in training
    groups = _batches(images, batch_size)
    if batch_size > 1 or draws_randomly(generator):
        lanes = 1  # a batch shares the cores instead; random draws must come in image order
    elif lanes is None:
        lanes = default_lanes(device, max((im.shape[0] * im.shape[1] for im in images), default=0))

    def translate_group(group: list[int]) -> np.ndarray:
        return translate_batch(generator, np.stack([images[i] for i in group]), multiple, style,
                               precision)  # fmt: skip

    out: list[np.ndarray] = [np.empty(0, np.uint8)] * len(images)
    for group, batch in zip(groups, map_in_lanes(translate_group, groups, lanes), strict=True):
        for i, image in zip(group, batch, strict=True):
            out[i] = image
    return out


@torch.inference_mode()
def translate_batch(
    generator: nn.Module,
    batch: np.ndarray,
    multiple: int = 4,
    style: torch.Tensor | None = None,
    precision: str = "fp32",
) -> np.ndarray:
    """NxHxWxC uint8 images of one size through the network (inference mode is set here, in
    the thread that runs it: it is a per-thread setting)."""
    device = next(generator.parameters()).device
    if not batch.flags.writeable:  # PIL's arrays: PyTorch warns about sharing read-only memory
        batch = batch.copy()
    x = torch.from_numpy(batch).to(device).permute(0, 3, 1, 2).float().div(127.5).sub(1)
    h, w = x.shape[-2:]
    pad_h, pad_w, reflect = pads(h, w, multiple)
    mode = "reflect" if reflect else "replicate"
    code = None if style is None else style.expand(len(batch), -1)
    with speed.autocast(precision, device):
        y = generator(F.pad(x, (0, pad_w, 0, pad_h), mode=mode), code)
    s = y.shape[-1] // (w + pad_w)  # an enlarging generator's factor (model.upscale)
    y = y[..., : h * s, : w * s].float()
    y = y.add(1).mul(127.5).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).cpu()
    return y.numpy()
