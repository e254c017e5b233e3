"""All of a run's TensorBoard output: scalars, hparams and fixed-input sample grids."""

from __future__ import annotations

import time
from pathlib import Path
from typing import get_args

import torch
from torch.utils.tensorboard import SummaryWriter
from torch.utils.tensorboard.summary import hparams
from torchvision.utils import make_grid, save_image

from gan_style.config import Config, EvalMetric, flatten, to_dict
from gan_style.disk import write_atomic
from gan_style.models import TranslationModel
from gan_style.training.grid_labels import labelled

# The scalar tags the HParams view shows as columns: final losses and every training metric.
HPARAM_METRICS = ("Loss/G/total", "Loss/D/total", *(f"Eval/{m}" for m in get_args(EvalMetric)))


def hparam_value(value: object) -> int | float | str | bool:
    return value if isinstance(value, (int, float, str, bool)) else str(value)


class RunLogger:
    """Writes to runs/<experiment>/<run>/: events for TensorBoard and samples/*.png."""

    def __init__(self, run_dir: Path, step: int = 0) -> None:
        self.run_dir = run_dir
        self.writer = SummaryWriter(log_dir=str(run_dir))
        self._last_time, self._last_step = time.perf_counter(), step  # for Time/sec_per_iter

    def scalars(self, step: int, values: dict[str, float]) -> None:
        for tag, value in values.items():
            self.writer.add_scalar(tag, value, step)

    def training_scalars(
        self, step: int, losses: dict[str, torch.Tensor], learning_rates: dict[str, float]
    ) -> dict[str, float]:
        """Losses (`Loss/G/total`, ...), learning rates (`LR/G`) and the time per iteration
        since the last call; reading the losses waits for the device."""
        now = time.perf_counter()
        values = {f"Loss/{k}": v.item() for k, v in losses.items()}
        values |= {f"LR/{k}": lr for k, lr in learning_rates.items()}
        values["Time/sec_per_iter"] = (now - self._last_time) / max(1, step - self._last_step)
        self._last_time, self._last_step = now, step
        self.scalars(step, values)
        return values

    def hparams(self, cfg: Config) -> None:
        """Config as hparams in this run's own folder, so the HParams view lists every run once,
        with the columns of `HPARAM_METRICS`: the same in every run, so that runs with other
        eval settings still compare (a run that does not log one leaves its cell empty)."""
        flat = {k: hparam_value(v) for k, v in flatten(to_dict(cfg)).items()}
        exp, ssi, sei = hparams(flat, dict.fromkeys(HPARAM_METRICS, 0.0))
        for summary in (exp, ssi, sei):
            self.writer.file_writer.add_summary(summary)

    def samples(self, step: int, images: dict[str, torch.Tensor]) -> Path:
        """One row per fixed input; columns in the dict's order (real_A | fake_B | ...), each
        named above it, with the step (`grid_labels.py`)."""
        columns = [image.float().cpu() for image in images.values()]
        rows = torch.stack(columns, dim=1).flatten(0, 1)  # (n * columns, C, H, W), row-major
        grid = make_grid(rows, nrow=len(columns), normalize=True, value_range=(-1, 1))
        grid = labelled(grid, list(images), step, tile=columns[0].shape[-1])
        self.writer.add_image(f"Samples/{'|'.join(images)}", grid, step)
        path = self.run_dir / "samples" / f"step_{step:07d}.png"
        write_atomic(path, lambda f: save_image(grid, f, format="png"))
        return path

    def model_samples(
        self, step: int, model: TranslationModel, inputs: dict[str, torch.Tensor]
    ) -> Path:
        """The model's sample columns for the fixed `inputs` ("A", "B"), in eval mode."""
        model.eval()
        with torch.inference_mode():
            images = model.sample_columns(inputs["A"], inputs["B"])
        model.train()
        return self.samples(step, images)

    def close(self) -> None:
        self.writer.close()
