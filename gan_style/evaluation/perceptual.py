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
from gan_style.evaluation.inception import sha256_of

ALEXNET_FILE = "alexnet-owt-7be5be79.pth"
ALEXNET_URL = f"https://download.pytorch.org/models/{ALEXNET_FILE}"
ALEXNET_SHA256_PREFIX = "7be5be79"


def _missing(why: str) -> EvaluationError:
    return EvaluationError(
        f"no LPIPS backbone weights: {why}; download {ALEXNET_FILE} from {ALEXNET_URL} "
        "and pass --lpips-weights PATH"
    )


def resolve_weights(weights: str | Path | None) -> Path:
    if weights is not None and str(weights) != "":
        path = Path(weights)
        if not path.is_file():
            raise _missing(f"{path} not found")
        return path
    cached = Path(torch.hub.get_dir()) / "checkpoints" / ALEXNET_FILE
    if not cached.is_file():
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            torch.hub.download_url_to_file(
                ALEXNET_URL, str(cached), hash_prefix=ALEXNET_SHA256_PREFIX, progress=False
            )
        except Exception as e:  # offline
            raise _missing(f"the download failed ({type(e).__name__})") from None
    return cached


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
            "standard_weights": self.sha256.startswith(ALEXNET_SHA256_PREFIX),
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
    path = resolve_weights(weights)
    digest = sha256_of(path)
    if verify and not digest.startswith(ALEXNET_SHA256_PREFIX):
        raise EvaluationError(
            f"{path} is not torchvision's AlexNet file (sha256 {digest[:8]}..., expected "
            f"{ALEXNET_SHA256_PREFIX}...: {ALEXNET_FILE}); pass --unverified-weights to use it "
            "anyway"
        )
    from torchmetrics.functional.image.lpips import _NoTrainLpips
    from torchvision.models import alexnet

    try:
        backbone = alexnet(weights=None)
        backbone.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    except Exception as e:
        raise EvaluationError(
            f"{path} is not an AlexNet weights file ({type(e).__name__}); use {ALEXNET_FILE}"
        ) from None
    # Heads from torchmetrics' wheel; the backbone's layers replaced by the file's, slice by slice.
    net = _NoTrainLpips(net="alex", pretrained=True, pnet_rand=True)
    for part in (net.net.slice1, net.net.slice2, net.net.slice3, net.net.slice4, net.net.slice5):
        for index, layer in part.named_children():
            layer.load_state_dict(backbone.features[int(index)].state_dict())
    device = torch.device(device)
    return Lpips(net.to(device), path, digest, device)
