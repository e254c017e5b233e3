"""All of a run's TensorBoard output: scalars, hparams and fixed-input sample grids."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch
from torch.utils.tensorboard import SummaryWriter
from torch.utils.tensorboard.summary import hparams
from torchvision.utils import make_grid, save_image

from gan_style.config import Config, flatten, to_dict
from gan_style.data.paired import PairedDataset, split_folder
from gan_style.data.transforms import build_transforms
from gan_style.data.unaligned import domain_images
from gan_style.image_io import load_image


def hparam_value(value: object) -> int | float | str | bool:
    return value if isinstance(value, (int, float, str, bool)) else str(value)


class RunLogger:
    """Writes to runs/<experiment>/<run>/: events for TensorBoard and samples/*.png."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.writer = SummaryWriter(log_dir=str(run_dir))

    def scalars(self, step: int, values: dict[str, float]) -> None:
        for tag, value in values.items():
            self.writer.add_scalar(tag, value, step)

    def hparams(self, cfg: Config, metrics: dict[str, float]) -> None:
        """Config as hparams in this run's own folder, so the HParams view lists every run once.

        `metrics` names scalar tags (e.g. `Loss/G/total`) that the view shows as columns.
        """
        flat = {k: hparam_value(v) for k, v in flatten(to_dict(cfg)).items()}
        exp, ssi, sei = hparams(flat, metrics)
        for summary in (exp, ssi, sei):
            self.writer.file_writer.add_summary(summary)

    def samples(self, step: int, images: dict[str, torch.Tensor]) -> Path:
        """One row per fixed input; columns in the dict's order (real_A | fake_B | ...)."""
        columns = [image.float().cpu() for image in images.values()]
        rows = torch.stack(columns, dim=1).flatten(0, 1)  # (n * columns, C, H, W), row-major
        grid = make_grid(rows, nrow=len(columns), normalize=True, value_range=(-1, 1))
        self.writer.add_image(f"Samples/{'|'.join(images)}", grid, step)
        path = self.run_dir / "samples" / f"step_{step:07d}.png"
        path.parent.mkdir(exist_ok=True)
        save_image(grid, path)
        return path

    def close(self) -> None:
        self.writer.close()


def fixed_samples(cfg: Config, n: int, multiple: int) -> dict[str, torch.Tensor]:
    """The first `n` held-out images of each domain (train images if there is no test split)."""
    root = Path(cfg.data.root)
    data = cfg.data
    if data.dataset_mode != "unaligned":  # pairs: input and target side by side
        phase = (
            "test"
            if (root / split_folder(root, "test")).is_dir() or (root / "testA").is_dir()
            else "train"
        )
        dataset = PairedDataset(data, phase, train=False, multiple=multiple, verify=False)
        items = [dataset[i] for i in range(min(n, len(dataset)))]
        return {side: torch.stack([item[side] for item in items]) for side in ("A", "B")}
    if data.preprocess == "none":  # sizes may differ; a grid needs one size
        data = dataclasses.replace(data, preprocess="resize_and_crop")
    transform = build_transforms(data, train=False, multiple=multiple)
    out = {}
    for side in ("A", "B"):
        phase = "test" if (root / f"test{side}").is_dir() else "train"
        paths = domain_images(root, f"{phase}{side}", cfg.data.dataset)[:n]
        images = [transform(image=load_image(p, cfg.data.channels))["image"] for p in paths]
        out[side] = torch.stack(images)
    k = min(len(out["A"]), len(out["B"]))
    return {"A": out["A"][:k], "B": out["B"][:k]}
