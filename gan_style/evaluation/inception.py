"""The FID Inception network papers use: the TensorFlow 2015 weights, in torch-fidelity's port.

pytorch-fid, torch-fidelity, clean-fid and torchmetrics all run this network, so a score made
with it (and the same resize, image count and reference set) is comparable with published
ones; torchvision's ImageNet Inception-v3 is a different network and gives other numbers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gan_style.errors import EvaluationError

# The official file: its name carries the first 8 hex digits of its SHA-256 (torch.hub's rule).
FID_WEIGHTS_FILE = "weights-inception-2015-12-05-6726825d.pth"
FID_WEIGHTS_URL = (
    f"https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/{FID_WEIGHTS_FILE}"
)
FID_WEIGHTS_SHA256_PREFIX = "6726825d"
FEATURE = "2048"  # pool3 features, as FID and KID are defined on
IMAGE_SIZE = 299
RESIZE = "bilinear to 299x299, TensorFlow 1.x compatible (torch-fidelity), from 8-bit RGB"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _missing(why: str) -> EvaluationError:
    return EvaluationError(
        f"no FID Inception weights: {why}; download {FID_WEIGHTS_FILE} from {FID_WEIGHTS_URL} "
        "and pass --inception-weights PATH"
    )


def resolve_weights(weights: str | Path | None) -> Path:
    """A local file, else torch.hub's cache, else a download into that cache."""
    if weights is not None and str(weights) != "":
        path = Path(weights)
        if not path.is_file():
            raise _missing(f"{path} not found")
        return path
    cached = Path(torch.hub.get_dir()) / "checkpoints" / FID_WEIGHTS_FILE
    if cached.is_file():
        return cached
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        torch.hub.download_url_to_file(
            FID_WEIGHTS_URL, str(cached), hash_prefix=FID_WEIGHTS_SHA256_PREFIX, progress=False
        )
    except Exception as e:  # offline: URLError, socket errors, HTTP errors, hash mismatch
        raise _missing(f"the download failed ({type(e).__name__})") from None
    return cached


@dataclass
class FidExtractor:
    """The FID network with what a score must record about it."""

    net: torch.nn.Module
    weights: Path
    sha256: str
    device: torch.device

    @property
    def standard(self) -> bool:
        return self.sha256.startswith(FID_WEIGHTS_SHA256_PREFIX)

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
    path = resolve_weights(weights)
    digest = sha256_of(path)
    if verify and not digest.startswith(FID_WEIGHTS_SHA256_PREFIX):
        raise EvaluationError(
            f"{path} is not the standard FID Inception weights (sha256 {digest[:8]}..., expected "
            f"{FID_WEIGHTS_SHA256_PREFIX}...: {FID_WEIGHTS_FILE} from {FID_WEIGHTS_URL}); pass "
            "--unverified-weights to score with it anyway, marked non-standard"
        )
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
            f"{path} does not fit the FID Inception network; use {FID_WEIGHTS_FILE}"
        ) from None
    device = torch.device(device)
    return FidExtractor(net.to(device), path, digest, device)
