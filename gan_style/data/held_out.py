"""The held-out set of a config: the images that evaluation, training-time scoring, sample
grids and galleries show a model, with their ground truth where the data has some."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from gan_style.config import Config
from gan_style.data.colorization import ColorizationDataset
from gan_style.data.folders import domain_images, images_folder, split_folder
from gan_style.data.lab import gray_rgb
from gan_style.data.paired import Pair, PairedDataset, find_pairs, load_pair
from gan_style.data.restoration import RestorationDataset, restoration_pair
from gan_style.data.transforms import build_transforms
from gan_style.errors import DataError, EvaluationError
from gan_style.image_io import (
    find_images,
    image_name,
    images_by_name,
    load_image,
    load_readable,
    readable,
)

SIDES = ("A", "B")


@dataclass
class HeldOut:
    """Per side "A"/"B": the input images (8-bit HxWxC at their own size), their names (paths
    below the split folder, without extension) and, where the data has it, the ground truth of
    their translation."""

    inputs: dict[str, list[np.ndarray]] = field(default_factory=dict)
    names: dict[str, list[str]] = field(default_factory=dict)
    truths: dict[str, list[np.ndarray]] = field(default_factory=dict)


def split_images(root: Path, folder: str) -> list[Path]:
    path = root / folder
    paths = find_images(path) if path.is_dir() else []
    if not paths:
        raise DataError(f"no held-out images in {path}; evaluation needs {folder}/ under data.root")
    return paths


def held_out_images(
    cfg: Config, split: str = "test", style: str | None = None, limit: int | None = None
) -> HeldOut:
    """The held-out images of `split`, read once.

    Unaligned data: each side's images, with ground truth from <split>B_paired/ (for A inputs)
    or <split>A_paired/ where those exist. Paired data: the inputs of each pair, their targets
    as ground truth. With a multistyle `style`, B images and truths come from <...>/<style>/.
    `limit` reads only the first images of each side (training-time scoring, galleries).
    """
    sub = f"/{style}" if style else ""
    root = Path(cfg.data.root)
    held = HeldOut()
    if cfg.data.dataset_mode == "colorization":  # gray inputs; the photos are the truth
        folder = images_folder(root, split)
        paths, images = load_readable(split_images(root, folder)[:limit], cfg.data.channels)
        if not paths:
            raise DataError(f"no readable held-out images in {root / folder} (named above)")
        held.names["A"] = [image_name(p, root / folder) for p in paths]
        held.inputs["A"], held.truths["A"] = [gray_rgb(image) for image in images], images
        return held
    if cfg.data.dataset_mode != "unaligned":

        def load(pair: Pair) -> tuple[np.ndarray, np.ndarray]:
            if cfg.data.dataset_mode == "restoration":
                return restoration_pair(pair[0], cfg.data, cfg.model.upscale)
            return load_pair(pair, cfg.data)

        pair_files, pairs = readable(find_pairs(cfg.data, split)[:limit], load)
        if not pairs:
            raise DataError(f"no readable held-out pairs in {root} (named above)")
        held.names["A"] = [first.stem for first, _ in pair_files]
        held.inputs["A"], held.truths["A"] = [a for a, _ in pairs], [b for _, b in pairs]
        return held
    for side, other in (("A", "B"), ("B", "A")):
        folder = f"{split}{side}{sub if side == 'B' else ''}"
        paths, images = load_readable(split_images(root, folder)[:limit], cfg.data.channels)
        names = [image_name(p, root / folder) for p in paths]
        truth_dir = root / f"{split}{other}_paired{sub}"
        if truth_dir.is_dir():
            truth = images_by_name(truth_dir)
            missing = [n for n in names if n not in truth]
            if missing:
                raise EvaluationError(
                    f"{truth_dir} lacks ground truth for {', '.join(missing[:5])}"
                )
            read, truths = load_readable([truth[n] for n in names], cfg.data.channels)
            keep = [truth[n] in read for n in names]  # an image without truth is left out
            names, images = _where(names, keep), _where(images, keep)
            held.truths[side] = truths
        if not names:
            raise DataError(f"no readable held-out images in {root / folder} (named above)")
        held.names[side], held.inputs[side] = names, images
    return held


def _where(items: list, keep: list[bool]) -> list:
    return [item for item, k in zip(items, keep, strict=True) if k]


def held_out_samples(cfg: Config, n: int, multiple: int) -> dict[str, torch.Tensor]:
    """The first `n` held-out images of each domain as network inputs at the training crop size
    (train images where there is no test split): the fixed inputs of the sample grids."""
    root = Path(cfg.data.root)
    data = cfg.data
    if data.dataset_mode != "unaligned":  # pairs (or a photo's L and ab): input and target
        has_test = (root / split_folder(root, "test")).is_dir() or (root / "testA").is_dir()
        phase = "test" if has_test else "train"
        if data.dataset_mode == "restoration":
            dataset = RestorationDataset(data, phase, train=False, multiple=multiple,
                                         verify=False, upscale=cfg.model.upscale)  # fmt: skip
        else:
            kind = ColorizationDataset if data.dataset_mode == "colorization" else PairedDataset
            dataset = kind(data, phase, train=False, multiple=multiple, verify=False)
        items = [dataset[i] for i in range(min(n, len(dataset)))]
        return {side: torch.stack([item[side] for item in items]) for side in SIDES}
    if data.preprocess == "none":  # sizes may differ; a grid needs one size
        data = dataclasses.replace(data, preprocess="resize_and_crop")
    transform = build_transforms(data, train=False, multiple=multiple)
    out = {}
    for side in SIDES:
        phase = "test" if (root / f"test{side}").is_dir() else "train"
        paths = domain_images(root, f"{phase}{side}", cfg.data.dataset)[:n]
        images = [transform(image=load_image(p, cfg.data.channels))["image"] for p in paths]
        out[side] = torch.stack(images)
    k = min(len(out["A"]), len(out["B"]))
    return {"A": out["A"][:k], "B": out["B"][:k]}
