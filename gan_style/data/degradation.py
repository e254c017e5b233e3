"""Damaged copies of clean images, so restorers train on any folder without paired data.

The idea is Real-ESRGAN's (Wang et al. 2021): a randomised chain of the damage real images
suffer, each step's strength drawn per image. In order:

| step            | key                         | what it does                               |
|-----------------|-----------------------------|--------------------------------------------|
| fading          | `data.degrade_fade`         | contrast and saturation cut by up to this share |
| yellowing       | `data.degrade_yellow`       | towards old paper's yellow by up to this share |
| dust, scratches | `data.degrade_scratches`    | up to this many light or dark specks and lines |
| colour cast     | `data.degrade_cast`         | each channel shifted by up to +-this many levels |
| blur            | `data.degrade_blur`         | Gaussian blur, sigma up to this many px    |
| downscaling     | `data.degrade_downscale`    | shrunk by up to this factor, enlarged back |
| noise           | `data.degrade_noise`        | Gaussian noise, std up to this many levels |
| JPEG            | `data.degrade_jpeg`         | saved as JPEG at a quality from this to 95 |
| second order    | `data.degrade_second_order` | the chance of blur, noise and JPEG again   |

A print fades, yellows, gathers dust and takes a tint before a camera or scanner blurs,
shrinks, adds noise and compresses it, hence the order. A key at 0 turns its step off
(`degrade_jpeg` at 100). For super-resolution (`model.upscale`), the damaged image is then
shrunk by that factor, before its noise and JPEG, with one of area, bilinear or bicubic
interpolation, as cameras and web pages do it (`data.degrade_shrink`: random, or always one).
The colour cast, blur, downscaling, noise and JPEG are albumentations' transforms; the rest is
drawn here, since albumentations has no yellowing, dust or scratches.
"""

from __future__ import annotations

from dataclasses import dataclass

import albumentations as A
import cv2
import numpy as np

from gan_style.config import DataConfig

BEST_JPEG = 95  # the top of the JPEG quality range
PAPER_YELLOW = np.array([240.0, 226.0, 180.0])  # the colour old white paper turns towards
SHRINKING = {"area": cv2.INTER_AREA, "bilinear": cv2.INTER_LINEAR, "bicubic": cv2.INTER_CUBIC}
STEP_CHANCE = 0.8  # each camera step (blur, downscaling, noise, JPEG) is applied this often


@dataclass(frozen=True)
class Degradation:
    """The strongest damage of each step (see the module's table); 0 turns a step off."""

    blur: float = 2.0
    downscale: float = 2.0
    noise: float = 10.0
    jpeg: int = 40
    second_order: float = 0.0
    fade: float = 0.3
    yellow: float = 0.3
    scratches: int = 6
    cast: float = 12.0
    shrink: str = "random"  # an enlarger's shrinking: a key of SHRINKING, or random among them

    @classmethod
    def from_config(cls, data: DataConfig) -> Degradation:
        return cls(data.degrade_blur, data.degrade_downscale, data.degrade_noise,
                   data.degrade_jpeg, data.degrade_second_order, data.degrade_fade,
                   data.degrade_yellow, data.degrade_scratches, data.degrade_cast,
                   data.degrade_shrink)  # fmt: skip


def camera_steps(d: Degradation, second: bool = False) -> list[A.BasicTransform]:
    """Blur, (first pass only) downscaling, noise and JPEG, each with chance STEP_CHANCE."""
    steps: list[A.BasicTransform] = []
    if d.blur > 0:
        steps.append(A.GaussianBlur(sigma_limit=(0.1, d.blur), blur_limit=0, p=STEP_CHANCE))
    if d.downscale > 1 and not second:
        steps.append(A.Downscale(scale_range=(1 / d.downscale, 1.0), p=STEP_CHANCE))
    return steps


def cast_steps(d: Degradation) -> list[A.BasicTransform]:
    """A colour cast (a print's or a film's tint): every channel shifted by its own amount."""
    if d.cast <= 0:
        return []
    limit = (-d.cast, d.cast)
    return [A.RGBShift(r_shift_limit=limit, g_shift_limit=limit, b_shift_limit=limit, p=1.0)]


def noise_steps(d: Degradation) -> list[A.BasicTransform]:
    steps: list[A.BasicTransform] = []
    if d.noise > 0:
        steps.append(A.GaussNoise(std_range=(0.0, d.noise / 255), p=STEP_CHANCE))
    if d.jpeg < 100:
        steps.append(A.ImageCompression(quality_range=(d.jpeg, BEST_JPEG), p=STEP_CHANCE))
    return steps


class Degrader:
    """`degrade(image, rng)`: the damaged copy of an 8-bit HxWxC image; with `upscale` > 1,
    also shrunk by that factor (the image's sides must be multiples of it). The same `rng`
    state gives the same damage, so training resumes exactly and held-out images keep theirs."""

    def __init__(self, d: Degradation, upscale: int = 1) -> None:
        self.d, self.upscale = d, upscale
        self.cast = A.Compose(cast_steps(d))
        self.blur = A.Compose(camera_steps(d))
        self.noise = A.Compose(noise_steps(d))
        self.second = A.Compose([*camera_steps(d, second=True), *noise_steps(d)])

    def degrade(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        seeds = [int(s) for s in rng.integers(2**31, size=4)]
        out = age(image, self.d, rng) if image.shape[2] == 3 else image.copy()
        if out.shape[2] == 3:
            out = self._run(self.cast, out, seeds[3])
        out = self._run(self.blur, out, seeds[0])
        if self.upscale > 1:
            h, w = out.shape[:2]
            drawn = list(SHRINKING)[int(rng.integers(len(SHRINKING)))]  # drawn either way
            how = SHRINKING[drawn if self.d.shrink == "random" else self.d.shrink]
            out = _channels(
                cv2.resize(out, (w // self.upscale, h // self.upscale), interpolation=how)
            )
        out = self._run(self.noise, out, seeds[1])
        if rng.random() < self.d.second_order:
            out = self._run(self.second, out, seeds[2])
        return out

    @staticmethod
    def _run(steps: A.Compose, image: np.ndarray, seed: int) -> np.ndarray:
        if not steps.transforms:
            return image
        steps.set_random_seed(seed)
        return _channels(steps(image=image)["image"])


def age(image: np.ndarray, d: Degradation, rng: np.random.Generator) -> np.ndarray:
    """A print's ageing of an RGB 8-bit image: faded, yellowed, dusty and scratched."""
    out = image.astype(np.float32)
    if d.fade > 0:
        share = rng.uniform(0, d.fade)
        grey = out.mean(axis=2, keepdims=True)
        out = out + share * (grey - out)  # colour towards grey: saturation
        out = out + share * (out.mean() - out)  # grey towards the mean: contrast
    if d.yellow > 0:
        share = rng.uniform(0, d.yellow)
        out = out * (1 - share) + share * out.mean(axis=2, keepdims=True) / 255 * PAPER_YELLOW
    out = np.clip(out, 0, 255)
    if d.scratches > 0:
        out = scratch(out, int(rng.integers(d.scratches + 1)), rng)
    return np.rint(out).astype(np.uint8)


def scratch(image: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` marks, light or dark: half of them dust specks (dots of 1-2 px radius), half
    thin scratches (antialiased lines up to half the image long)."""
    h, w = image.shape[:2]
    out = np.ascontiguousarray(image)
    for i in range(count):
        shade = float(rng.choice([20.0, 235.0]))
        x, y = int(rng.integers(w)), int(rng.integers(h))
        if i % 2:
            length, angle = rng.uniform(0.1, 0.5) * max(h, w), rng.uniform(0, np.pi)
            end = (int(x + length * np.cos(angle)), int(y + length * np.sin(angle)))
            cv2.line(out, (x, y), end, (shade,) * 3, 1, cv2.LINE_AA)
        else:
            cv2.circle(out, (x, y), int(rng.integers(1, 3)), (shade,) * 3, -1, cv2.LINE_AA)
    return out


def _channels(image: np.ndarray) -> np.ndarray:
    """OpenCV drops the channel axis of 1-channel images; put it back."""
    return image if image.ndim == 3 else image[:, :, None]
