"""A style score that needs no downloaded network: the deception rate of a domain classifier.

FID needs Inception weights, and a painting style has no ground truth. Instead a small
convolutional classifier learns to tell a run's two training domains apart (photos from Monet,
say), with a fixed seed and recipe, and judges the translations: the **deception rate** is the
fraction of translations it takes for the target domain (Sanakoyeu et al. 2018 used a
pretrained style classifier the same way). It is trained by the evaluation itself on the
training images, never the run's discriminator (which the generator has learned to fool), and
cached per dataset, so every run and checkpoint of one dataset meets the same judge.

It sees 64 px crops of images scaled to 128 px on the shorter side: colour, texture and strokes
at that scale, not the layout. Its accuracy on training images it did not train on (every
fifth of each domain) is reported; below `MIN_ACCURACY` it cannot tell the domains apart and
no rate is given. A high rate alone can be bought by destroying the content: read it beside
the content score (SSIM of input and output luminance, the `content` protocol).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from gan_style import disk
from gan_style.errors import EvaluationError
from gan_style.image_io import find_images, load_readable

# The recipe, part of the cache key: change it and every dataset's judge is trained again.
RECIPE = {
    "version": 1,
    "side": 128,  # px: images are scaled to this shorter side first
    "crop": 64,  # px: the classifier's input
    "steps": 600,  # Adam steps of `batch` crops, half from each domain
    "batch": 32,
    "lr": 1e-3,
    "seed": 0,
    "per_domain": 400,  # at most this many images of each domain (evenly spaced by name)
}
MIN_IMAGES = 5  # per domain: 4 to train on, 1 to check it
MIN_ACCURACY = 0.75  # on held-back training images, both domains weighed alike
VALIDATION_EVERY = 5  # every fifth image of each domain is held back to check the judge


class DomainClassifier(nn.Module):
    """64 px crops -> a logit, positive for domain B: four stride-2 convolutions and a mean."""

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for out in (width, 2 * width, 4 * width, 4 * width):
            layers += [nn.Conv2d(channels, out, 4, 2, 1), nn.LeakyReLU(0.2, True)]
            channels = out
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).squeeze(1)


def scaled(image: np.ndarray, side: int = RECIPE["side"]) -> torch.Tensor:
    """An 8-bit HxWx3 image scaled to `side` px on its shorter side, as 3xhxw in [-1, 1]
    (at least `crop` on both sides)."""
    h, w = image.shape[:2]
    factor = max(side / min(h, w), RECIPE["crop"] / min(h, w))
    size = (max(RECIPE["crop"], round(w * factor)), max(RECIPE["crop"], round(h * factor)))
    pil = Image.fromarray(image[..., :3] if image.ndim == 3 else np.stack([image] * 3, -1))
    array = np.asarray(pil.convert("RGB").resize(size, Image.BICUBIC), dtype=np.float32)
    return torch.from_numpy(array).permute(2, 0, 1) / 127.5 - 1


def fixed_crops(image: torch.Tensor) -> torch.Tensor:
    """The four corners and the centre, `crop` px each: 5x3xcropxcrop."""
    c, (h, w) = RECIPE["crop"], image.shape[-2:]
    corners = [(0, 0), (0, w - c), (h - c, 0), (h - c, w - c), ((h - c) // 2, (w - c) // 2)]
    return torch.stack([image[:, y : y + c, x : x + c] for y, x in corners])


@dataclass
class StyleJudge:
    """A trained domain classifier and how well it separates the domains."""

    net: DomainClassifier
    accuracy: float  # on held-back training images, the mean of both domains' accuracies

    def probability_b(self, images: list[np.ndarray]) -> np.ndarray:
        """Each image's probability of being domain B: the mean logit of five fixed crops."""
        with torch.inference_mode():
            logits = [self.net(fixed_crops(scaled(image))).mean() for image in images]
        return torch.sigmoid(torch.stack(logits)).numpy() if logits else np.zeros(0)

    def taken_for(self, images: list[np.ndarray], domain: str) -> np.ndarray:
        """1 for each image the classifier takes for `domain` (A or B), else 0."""
        p = self.probability_b(images)
        return (p > 0.5 if domain == "B" else p <= 0.5).astype(np.float64)

    def deception_rate(self, images: list[np.ndarray], domain: str) -> float:
        """The fraction of `images` taken for `domain`: of translations into it, the deception
        rate."""
        return float(self.taken_for(images, domain).mean())


def domain_folders(root: str | Path) -> tuple[Path, Path]:
    """trainA/ and trainB/ under `root`, with enough images each; else one line saying why."""
    found = []
    for side in ("A", "B"):
        folder = Path(root) / f"train{side}"
        count = len(find_images(folder)) if folder.is_dir() else 0
        if count < MIN_IMAGES:
            raise EvaluationError(
                f"the style score needs at least {MIN_IMAGES} images in {folder.resolve()} "
                f"(found {count})"
            )
        found.append(folder)
    return found[0], found[1]


def load_judge(root: str | Path) -> StyleJudge:
    """The judge of the dataset at `root` (its trainA/ against trainB/): from the cache, or
    trained now (seconds) and cached. An error when it cannot separate the domains."""
    a, b = domain_folders(root)
    paths = {side: _subset(find_images(folder)) for side, folder in (("A", a), ("B", b))}
    cached = _cache_path(paths)
    judge = _read_cached(cached)
    if judge is None:
        judge = train_judge(paths["A"], paths["B"])
        state = {"weights": judge.net.state_dict(), "accuracy": judge.accuracy, "recipe": RECIPE}
        disk.write_atomic(cached, lambda f: torch.save(state, f))
    if judge.accuracy < MIN_ACCURACY:
        raise EvaluationError(
            f"the style classifier cannot tell {a} from {b} (accuracy {judge.accuracy:.2f} on "
            f"images it did not train on, under {MIN_ACCURACY}); a deception rate would mean "
            f"nothing here"
        )
    return judge


def train_judge(a_paths: list[Path], b_paths: list[Path]) -> StyleJudge:
    """Train a classifier on every image but each fifth, check it on those; the random streams
    of the caller (a training run, say) are left as they were."""
    domains = []
    for paths in (a_paths, b_paths):
        readable, images = load_readable(paths, 3)
        if len(readable) < MIN_IMAGES:
            raise EvaluationError(
                f"the style score needs at least {MIN_IMAGES} readable images in "
                f"{paths[0].parent if paths else 'each domain'}"
            )
        domains.append([scaled(image) for image in images])
    train = [[x for i, x in enumerate(d) if i % VALIDATION_EVERY] for d in domains]
    held = [[x for i, x in enumerate(d) if not i % VALIDATION_EVERY] for d in domains]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(RECIPE["seed"])
        net = DomainClassifier()
        _fit(net, train, torch.Generator().manual_seed(RECIPE["seed"]))
    net.eval()
    judge = StyleJudge(net, 0.0)
    accuracies = [
        judge.taken_for([_array(x) for x in images], side).mean()
        for images, side in zip(held, "AB", strict=True)
    ]
    judge.accuracy = float(np.mean(accuracies))
    return judge


def _fit(net: DomainClassifier, domains: list[list[torch.Tensor]], rng: torch.Generator) -> None:
    optimizer = torch.optim.Adam(net.parameters(), lr=RECIPE["lr"], betas=(0.5, 0.999))
    half, crop = RECIPE["batch"] // 2, RECIPE["crop"]
    labels = torch.cat([torch.zeros(half), torch.ones(half)])
    loss_fn = nn.BCEWithLogitsLoss()
    for _ in range(RECIPE["steps"]):
        crops = []
        for images in domains:
            for i in torch.randint(len(images), (half,), generator=rng).tolist():
                image = images[i]
                h, w = image.shape[-2:]
                y = int(torch.randint(h - crop + 1, (1,), generator=rng))
                x = int(torch.randint(w - crop + 1, (1,), generator=rng))
                piece = image[:, y : y + crop, x : x + crop]
                crops.append(piece.flip(-1) if torch.rand(1, generator=rng) < 0.5 else piece)
        loss = loss_fn(net(torch.stack(crops)), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


def _array(x: torch.Tensor) -> np.ndarray:
    """A scaled tensor back to 8 bits, so held-back images are judged as any image is."""
    return ((x.permute(1, 2, 0).numpy() + 1) * 127.5).round().clip(0, 255).astype(np.uint8)


def _subset(paths: list[Path]) -> list[Path]:
    """At most `per_domain` images, evenly spaced in name order: the same ones every time."""
    limit = RECIPE["per_domain"]
    if len(paths) <= limit:
        return paths
    return [paths[i * len(paths) // limit] for i in range(limit)]


def _cache_path(paths: dict[str, list[Path]]) -> Path:
    """Keyed by the recipe and each file's path, size and time of change."""
    h = hashlib.sha256(json.dumps(RECIPE, sort_keys=True).encode())
    for side, files in paths.items():
        for path in files:
            stat = path.stat()
            h.update(f"{side}|{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return disk.cache_dir() / "style_judge" / f"{h.hexdigest()[:32]}.pt"


def _read_cached(path: Path) -> StyleJudge | None:
    """A cached judge, or None where there is none or it does not load (trained again)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        net = DomainClassifier()
        net.load_state_dict(state["weights"])
        return StyleJudge(net.eval(), float(state["accuracy"]))
    except Exception:  # torch.load raises many kinds for a damaged file
        return None
