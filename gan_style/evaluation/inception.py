"""The FID Inception network papers use: the TensorFlow 2015 weights, in torch-fidelity's port.

pytorch-fid, torch-fidelity, clean-fid and torchmetrics all run this network, so a score made
with it (and the same resize, image count and reference set) is comparable with published
ones; torchvision's ImageNet Inception-v3 is a different network and gives other numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gan_style.errors import EvaluationError
from gan_style.evaluation.weights import OfficialFile

FID_WEIGHTS = OfficialFile(
    "FID Inception weights",
    "weights-inception-2015-12-05-6726825d.pth",
    "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
    "weights-inception-2015-12-05-6726825d.pth",
    "6726825d",
    "--inception-weights",
)
FEATURE = "2048"  # pool3 features, as FID and KID are defined on
IMAGE_SIZE = 299
RESIZE = "bilinear to 299x299, TensorFlow 1.x compatible (torch-fidelity), from 8-bit RGB"


@dataclass
class FidExtractor:
    """The FID network with what a score must record about it."""

    net: torch.nn.Module
    weights: Path
    sha256: str
    device: torch.device

    @property
    def standard(self) -> bool:
        return FID_WEIGHTS.is_official(self.sha256)

    def describe(self) -> dict:
        return {
            "extractor": f"torch-fidelity InceptionV3 FID network, pool3 ({FEATURE}-d)",
            "weights": self.weights.name,
            "weights_sha256": self.sha256,
            "standard_weights": self.standard,
            "image_size": IMAGE_SIZE,
            "resize": RESIZE,
        }

    @torch.inference_mode()
    def features(self, images: list[np.ndarray], batch_size: int = 16) -> np.ndarray:
        """N x 2048 float64 features of HxWxC uint8 images; images of one size share a batch."""
        out: list[np.ndarray | None] = [None] * len(images)
        by_shape: dict[tuple, list[int]] = {}
        for i, image in enumerate(images):
            by_shape.setdefault(image.shape, []).append(i)
        for indices in by_shape.values():
            for start in range(0, len(indices), batch_size):
                chunk = indices[start : start + batch_size]
                batch = torch.from_numpy(np.stack([images[i] for i in chunk]))
                batch = batch.permute(0, 3, 1, 2).expand(-1, 3, -1, -1).contiguous()
                feats = self.net(batch.to(self.device))[0].double().cpu().numpy()
                for i, row in zip(chunk, feats, strict=True):
                    out[i] = row
        return np.stack(out) if images else np.zeros((0, int(FEATURE)))


def load_fid_extractor(
    weights: str | Path | None = None, device: str | torch.device = "cpu", verify: bool = True
) -> FidExtractor:
    """The FID network from `weights` (checked against the official file's hash), the torch.hub
    cache, or a download. `verify=False` accepts another file of the same architecture (tests,
    retrained extractors); its scores then say `standard_weights: false`."""
    path = FID_WEIGHTS.resolve(weights)
    digest = FID_WEIGHTS.checked(path, verify)
    try:  # a plain state dict, read without unpickling code, before the library reads it
        torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise EvaluationError(
            f"{path} is not a readable weights file ({type(e).__name__})"
        ) from None
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    try:
        net = FeatureExtractorInceptionV3(
            "inception-v3-compat", [FEATURE], feature_extractor_weights_path=str(path)
        )
    except RuntimeError:
        raise EvaluationError(
            f"{path} does not fit the FID Inception network; use {FID_WEIGHTS.name}"
        ) from None
    device = torch.device(device)
    return FidExtractor(net.to(device), path, digest, device)
