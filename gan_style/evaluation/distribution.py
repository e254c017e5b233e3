"""FID and KID between two image sets, from Inception-v3 pool features.

FID: Heusel et al. 2017. KID: Binkowski et al. 2018 (unbiased MMD^2, cubic polynomial kernel).
Features come from torchvision's ImageNet Inception-v3, so values are comparable between runs
of this tool, not with papers that use the TensorFlow FID network.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gan_style.errors import EvaluationError

INCEPTION_SIZE = 299
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class InceptionFeatures(nn.Module):
    """2048-d average-pool features of Inception-v3 for uint8 images of any size."""

    def __init__(self, state_dict: dict | None = None) -> None:
        super().__init__()
        from torchvision.models import inception_v3

        # transform_input=True is how torchvision runs its ImageNet weights.
        self.net = inception_v3(
            weights=None, aux_logits=True, transform_input=True, init_weights=state_dict is None
        )
        if state_dict is not None:
            try:
                self.net.load_state_dict(state_dict)
            except RuntimeError:
                raise EvaluationError(
                    "the Inception weights file does not fit torchvision's inception_v3; "
                    "use its IMAGENET1K_V1 weights"
                ) from None
        self.net.fc = nn.Identity()
        self.eval()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    @torch.inference_mode()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """`images`: N x C x H x W uint8 (C = 1 or 3)."""
        x = images.float().div(255).expand(-1, 3, -1, -1)
        x = F.interpolate(x, size=(INCEPTION_SIZE, INCEPTION_SIZE), mode="bilinear", antialias=True)
        return self.net((x - self.mean) / self.std)


def load_inception(weights: str | Path | None = None) -> InceptionFeatures:
    """ImageNet Inception-v3 from a local file, else torchvision's (cache or download)."""
    if weights is not None:
        path = Path(weights)
        if not path.is_file():
            raise EvaluationError(f"Inception weights file {path} not found")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:
            raise EvaluationError(f"{path} is not a readable weights file ({e})") from None
        return InceptionFeatures(state)
    from torchvision.models import Inception_V3_Weights

    try:
        state = Inception_V3_Weights.IMAGENET1K_V1.get_state_dict(progress=False)
    except Exception as e:  # offline: URLError, socket errors, HTTP errors...
        raise EvaluationError(
            f"no Inception-v3 weights: the download failed ({type(e).__name__}); "
            f"pass --inception-weights PATH ({Inception_V3_Weights.IMAGENET1K_V1.url})"
        ) from None
    return InceptionFeatures(state)


def features(
    model: InceptionFeatures, images: list[np.ndarray], batch_size: int = 16
) -> np.ndarray:
    """N x 2048 float64 features of HxWxC uint8 images (sizes may differ)."""
    device = model.mean.device
    feats = []
    for start in range(0, len(images), batch_size):
        chunk = images[start : start + batch_size]
        # Images of one size go as one batch; mixed sizes one by one (resized inside).
        groups = [chunk] if len({im.shape for im in chunk}) == 1 else [[im] for im in chunk]
        for group in groups:
            batch = torch.from_numpy(np.stack(group)).permute(0, 3, 1, 2).to(device)
            feats.append(model(batch).double().cpu())
    return torch.cat(feats).numpy()


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(feats_a: np.ndarray, feats_b: np.ndarray) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) of two feature sets.

    Tr((S_a S_b)^(1/2)) is computed as the sum of square roots of the eigenvalues of the
    symmetric S_a^(1/2) S_b S_a^(1/2): the same value as scipy's sqrtm route, much faster at
    2048 dimensions, and real even when fewer images than dimensions make S singular.
    """
    mu_a, mu_b = feats_a.mean(0), feats_b.mean(0)
    cov_a, cov_b = np.cov(feats_a, rowvar=False), np.cov(feats_b, rowvar=False)
    sqrt_a = _sqrt_psd(cov_a)
    middle = sqrt_a @ cov_b @ sqrt_a
    trace_covmean = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_covmean)


def kernel_inception_distance(
    feats_a: np.ndarray,
    feats_b: np.ndarray,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """Mean and std over random subsets of the unbiased MMD^2 with k(x, y) = (x.y / d + 1)^3."""
    d = feats_a.shape[1]
    m = min(len(feats_a), len(feats_b), subset_size)
    if m < 2:
        raise EvaluationError("KID needs at least 2 images in each set")
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(subsets):
        x = feats_a[rng.choice(len(feats_a), m, replace=False)]
        y = feats_b[rng.choice(len(feats_b), m, replace=False)]
        k_xx, k_yy = (x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3
        k_xy = (x @ y.T / d + 1) ** 3
        off_diag = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
        values.append(off_diag - 2 * k_xy.mean())
    return float(np.mean(values)), float(np.std(values))
