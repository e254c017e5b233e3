"""The training loop: `train(cfg)` reads top to bottom."""

from __future__ import annotations

import math
import os
import warnings
from contextlib import nullcontext
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from gan_style.config import Config, run_dir_for
from gan_style.data import EpochSampler, build_dataset, held_out_samples
from gan_style.models import build_model, model_class
from gan_style.networks import size_multiple
from gan_style.runtime import checkpoint_names as ckpt_names
from gan_style.runtime import speed
from gan_style.runtime.device import pick_device, seed_everything
from gan_style.training import distributed
from gan_style.training.ema import GeneratorEMA
from gan_style.training.evaluator import TrainingEvaluator
from gan_style.training.iteration import GanIteration
from gan_style.training.logger import RunLogger
from gan_style.training.run_folder import Progress, RunFolder, training_state
from gan_style.training.schedules import build_scheduler
from gan_style.training.stop import Stopped, StopRequest, say


def train(cfg: Config, run: str = "default") -> Path:
    """Train `cfg` in runs/<experiment>/<run>/, resuming from its latest.pt if there is one."""
    group, device_name = distributed.setup(cfg.train.device)
    main = group.main  # rank 0 alone writes logs, samples and checkpoints
    spec = model_class(cfg.model.name)
    cfg = spec.prepare_config(cfg)  # e.g. the style list, recorded in the run's config
    device = pick_device(device_name)
    seed_everything(cfg.train.seed)

    # Data.
    multiple = size_multiple(cfg.model.generator)
    dataset = build_dataset(cfg.data, "train", True, cfg.train.seed, multiple,
                            styled=spec.styled, upscale=cfg.model.upscale)  # fmt: skip
    sampler = EpochSampler(
        len(dataset), cfg.train.seed, rank=group.rank, world_size=group.world_size
    )
    loader = training_loader(dataset, sampler, cfg, device)
    steps_per_epoch, total_epochs, total_steps = training_length(len(dataset), cfg, group)

    # Networks and optimizers.
    model = distributed.sync_batchnorm(build_model(cfg), device, group).to(device)
    distributed.broadcast_parameters([model], group)
    if group.enabled:  # dropout and the like differ per rank; the data shards already do
        torch.manual_seed(cfg.train.seed + 1000 * group.rank)
    iteration = GanIteration.build(model, cfg.train, device, group)
    ema = GeneratorEMA(model, cfg.train.ema_decay) if cfg.train.ema_decay else None
    networks = [*model.generators, *model.discriminators, *model.fixed_networks]
    t = cfg.train
    speed.prepare_networks(
        networks, t.channels_last, t.compile, t.conv_backend, device, training=True
    )
    schedulers = {k: build_scheduler(opt, cfg.train) for k, opt in iteration.optimizers.items()}
    progress = Progress()
    state = training_state(
        cfg, progress, model, iteration.optimizers, schedulers, iteration.scaler, device, ema
    )
    folder = RunFolder(run_dir_for(cfg, run), cfg, state, model, group, ema)

    # Resume.
    changes = folder.resume(device)
    if changes is not None:
        if group.enabled:  # the file holds rank 0's RNG state; keep each rank's stream its own
            torch.manual_seed(cfg.train.seed + 1000 * group.rank + progress.step)
        if main:
            for change in changes:
                say(f"resuming with a changed setting: {change}")
            say(f"resuming {folder.path} at step {progress.step} (epoch {progress.epoch + 1})")
    # Said once the run is sure to start, so a run that cannot resume gets its error line alone.
    if main and cfg.train.precision == "auto" and iteration.precision != "fp32":
        say(f"training in {iteration.precision} (train.precision=auto on {device.type}; "
            "train.precision=fp32 for full precision)")  # fmt: skip
    # A full disk from here on stops the run in one line, saying what a rerun resumes from.
    with folder.disk_full_stops_the_run():
        folder.write_config()

        # Log.
        evaluator = (
            TrainingEvaluator(cfg, model, folder, device) if cfg.eval.every and main else None
        )
        logger = RunLogger(folder.path, progress.step) if main else None
        if changes is None and logger:  # hparams once per run
            logger.hparams(cfg)
        layout = torch.channels_last if cfg.train.channels_last else torch.contiguous_format
        samples = held_out_samples(cfg, cfg.log.num_samples, multiple) if main else {}
        samples = {k: v.to(device) for k, v in samples.items()}

        # Loop.
        if progress.step >= total_steps:
            say(
                f"{folder.path} already finished at step {progress.step}; "
                f"raise train.max_steps or train.epochs to train further"
            )
            finish(logger, group)
            return folder.path
        bar = tqdm(total=total_steps, initial=progress.step, desc=f"{cfg.name}/{run}", unit="it",
                   disable=not main)  # fmt: skip
        with StopRequest() as stop, bar:  # the bar closes before any error is printed
            while (
                progress.epoch < total_epochs and progress.step < total_steps and not stop.requested
            ):
                sampler.set_epoch(progress.epoch, skip=progress.epoch_step * cfg.train.batch_size)
                for batch in loader:
                    g_losses, d_losses = iteration(device_batch(batch, device, layout))
                    if ema:
                        ema.update()
                    progress.step += 1
                    progress.epoch_step += 1
                    bar.update(1)
                    last = progress.step == total_steps

                    # Log. Reading loss values syncs with the device, so only at log steps.
                    if logger and (progress.step % cfg.log.every == 0 or last):
                        lrs = {
                            k: opt.param_groups[0]["lr"] for k, opt in iteration.optimizers.items()
                        }
                        values = logger.training_scalars(progress.step, g_losses | d_losses, lrs)
                        shown = ("G", "D") if d_losses else ("G",)  # no D without its term
                        bar.set_postfix({k: f"{values[f'Loss/{k}/total']:.3f}" for k in shown})
                    sample = logger and (progress.step % cfg.log.sample_every == 0 or last)
                    score = evaluator and (progress.step % cfg.eval.every == 0 or last)
                    if sample or score:
                        # Samples and scores use the EMA's weights. Swapping them in copies every
                        # generator twice, so only at these steps (done at every step, it was about
                        # a tenth of a demo iteration: 1.23x -> 1.11x the paper settings' time).
                        with ema.swapped_in() if ema else nullcontext():
                            if sample:
                                logger.model_samples(progress.step, model, samples)
                            if score:
                                evaluator(progress, logger)

                    # Checkpoint.
                    if progress.step % cfg.train.save_every == 0:
                        folder.save(progress)
                    stop.requested = distributed.any_rank(stop.requested, group)
                    if stop.requested or progress.step >= total_steps:
                        break
                if progress.epoch_step >= steps_per_epoch:  # the epoch ended, also if we stop here
                    progress.epoch += 1
                    progress.epoch_step = 0
                    with warnings.catch_warnings():  # an idle optimizer (no D to train) is fine
                        warnings.filterwarnings("ignore", "Detected call of `lr_scheduler.step")
                        for scheduler in schedulers.values():
                            scheduler.step()
                    folder.save(progress)
            folder.save(progress)
        finish(logger, group)
    if stop.requested:
        if main:
            say(f"stopped at step {progress.step}; run the same command again to resume")
        raise Stopped(stop.signum, progress.step)
    if main and cfg.train.prepare_cpu_engine:
        prepare_cpu_engine(folder.path)
    return folder.path


def prepare_cpu_engine(run_dir: Path) -> None:
    """generator.pt and best.pt converted for this machine's CPU engine now, while the user
    waits for training anyway; where that fails, `translate` converts on its first run."""
    from gan_style.errors import GanStyleError
    from gan_style.inference.translate_files import prepare_engine

    for name in (ckpt_names.GENERATOR, ckpt_names.BEST):
        if not (run_dir / name).is_file():
            continue
        try:
            prepare_engine(run_dir / name)
        except (GanStyleError, OSError, RuntimeError) as e:
            say(f"note: {name} was not converted for the CPU engine ({e}); translate will")


def training_loader(
    dataset: Dataset, sampler: EpochSampler, cfg: Config, device: torch.device
) -> DataLoader:
    workers = cfg.data.num_workers if cfg.data.num_workers >= 0 else default_workers()
    return DataLoader(
        dataset,
        batch_size=cfg.train.batch_size,
        sampler=sampler,
        num_workers=workers,
        persistent_workers=workers > 0,
        pin_memory=device.type == "cuda",
        prefetch_factor=cfg.data.prefetch if workers > 0 else None,
        generator=torch.Generator().manual_seed(cfg.train.seed),  # keeps the global RNG untouched
    )


def default_workers() -> int:
    """`data.num_workers: -1`: the cores this process may use, less two for the training step,
    at most 4. On 2 cores that is 0: workers there share the step's cores, and 128 px paper-model
    iterations took 4.7 s in process against 5.1 s with 2 workers (docs/performance.md)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(0, min(4, (cores or 1) - 2))


def training_length(items: int, cfg: Config, group: distributed.Group) -> tuple[int, int, int]:
    """(iterations per epoch, epochs, iterations) of the whole run; `train.max_steps` can cut
    the run short."""
    steps_per_epoch = math.ceil(math.ceil(items / group.world_size) / cfg.train.batch_size)
    total_epochs = cfg.train.epochs + cfg.train.epochs_decay
    total_steps = total_epochs * steps_per_epoch
    if cfg.train.max_steps:
        total_steps = min(total_steps, cfg.train.max_steps)
    return steps_per_epoch, total_epochs, total_steps


def device_batch(
    batch: dict, device: torch.device, layout: torch.memory_format
) -> dict[str, torch.Tensor]:
    """The tensors of a loader batch on the device, images in the networks' memory layout."""
    batch = {
        k: v.to(device, non_blocking=True) for k, v in batch.items() if k in ("A", "B", "style")
    }
    return batch | {k: batch[k].contiguous(memory_format=layout) for k in ("A", "B")}


def finish(logger: RunLogger | None, group: distributed.Group) -> None:
    if logger:
        logger.close()
    distributed.teardown(group)
