"""LPIPS (Zhang et al. 2018), torchmetrics' implementation: AlexNet features, learned heads.

The small linear heads ship inside torchmetrics' wheel; the AlexNet backbone is torchvision's
ImageNet file, read from `--lpips-weights PATH`, torchvision's cache, or a download.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gan_style.errors import EvaluationError
from gan_style.evaluation.weights import OfficialFile

ALEXNET = OfficialFile(
    "LPIPS backbone weights (torchvision's AlexNet)",
    "alexnet-owt-7be5be79.pth",
    "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",
    "7be5be79",
    "--lpips-weights",
)


@dataclass
class Lpips:
    """LPIPS distance of two 8-bit images: 0 for identical images, larger when they differ."""

    net: torch.nn.Module
    weights: Path
    sha256: str
    device: torch.device

    def describe(self) -> dict:
        return {
            "lpips": "torchmetrics LPIPS, AlexNet backbone, v0.1 linear heads",
            "backbone_weights": self.weights.name,
            "backbone_sha256": self.sha256,
            "standard_weights": ALEXNET.is_official(self.sha256),
        }

    @torch.inference_mode()
    def __call__(self, a: np.ndarray, b: np.ndarray) -> float:
        pair = [
            torch.tensor(x).permute(2, 0, 1)[None].expand(-1, 3, -1, -1).float() / 127.5 - 1
            for x in (a, b)
        ]
        return float(self.net(pair[0].to(self.device), pair[1].to(self.device)).item())


def load_lpips(
    weights: str | Path | None = None, device: str | torch.device = "cpu", verify: bool = True
) -> Lpips:
    """LPIPS with the AlexNet backbone from `weights` (checked against torchvision's hash)."""
    path = ALEXNET.resolve(weights)
    digest = ALEXNET.checked(path, verify)
    from torchmetrics.functional.image.lpips import _NoTrainLpips
    from torchvision.models import alexnet

    try:
        backbone = alexnet(weights=None)
        backbone.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    except Exception as e:
        raise EvaluationError(
            f"{path} is not an AlexNet weights file ({type(e).__name__}); use {ALEXNET.name}"
        ) from None
    # Heads from torchmetrics' wheel; the backbone's layers replaced by the file's, slice by slice.
    net = _NoTrainLpips(net="alex", pretrained=True, pnet_rand=True)
    for part in (net.net.slice1, net.net.slice2, net.net.slice3, net.net.slice4, net.net.slice5):
        for index, layer in part.named_children():
            layer.load_state_dict(backbone.features[int(index)].state_dict())
    device = torch.device(device)
    return Lpips(net.to(device), path, digest, device)
